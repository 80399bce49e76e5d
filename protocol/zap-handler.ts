import { type Context, Reply } from "zeromq";
import type { Logger } from "../common/index.js";
import { encodeKey } from "./keys.js";

/** ZeroMQ's fixed in-process endpoint for the authentication handler (RFC 27). */
const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

export type KeyAuthorizer = (publicKey: string, address: string) => boolean | Promise<boolean>;

/**
 * Answers libzmq's ZAP requests for one context: a CURVE client is admitted only if
 * `authorize` says its public key is known. A refused client never completes the
 * handshake, so it cannot deliver a single message. One handler per context; a master
 * gets a context of its own so several can live in one process (tests, benches).
 */
export class ZapHandler {
  private constructor(
    private readonly socket: Reply,
    private readonly done: Promise<void>,
  ) {}

  static async start(
    context: Context,
    domain: string,
    authorize: KeyAuthorizer,
    logger: Logger,
  ): Promise<ZapHandler> {
    const socket = new Reply({ context, linger: 0 });
    await socket.bind(ZAP_ENDPOINT);
    const done = serve(socket, domain, authorize, logger);
    return new ZapHandler(socket, done);
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.done;
  }
}

async function serve(
  socket: Reply,
  domain: string,
  authorize: KeyAuthorizer,
  logger: Logger,
): Promise<void> {
  try {
    for await (const frames of socket) {
      const [version, requestId, reqDomain, address, , mechanism, credential] = frames;
      let status = "400";
      let text = "unknown key";
      let user = "";
      const addr = address?.toString("latin1") ?? "";
      if (version?.toString() !== "1.0" || !requestId) {
        text = "bad ZAP request";
      } else if (reqDomain?.toString() !== domain) {
        text = "wrong domain";
      } else if (mechanism?.toString() !== "CURVE" || credential?.length !== 32) {
        text = "CURVE required";
      } else {
        const key = encodeKey(credential);
        let allowed = false;
        try {
          allowed = await authorize(key, addr);
        } catch (err) {
          logger.error({ err, key }, "zap.authorize_failed");
        }
        if (allowed) {
          status = "200";
          text = "OK";
          user = key;
        }
      }
      await socket.send([version ?? "1.0", requestId ?? "", status, text, user, ""]);
    }
  } catch (err) {
    if (!socket.closed) logger.error({ err }, "zap.failed");
  }
}
