import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Logger } from "../../common/index.js";
import { answer, readingSeriesQuery, readingsQuery } from "../api-schemas.js";
import { type GapSource, lossesInAnswer, sequenceContext } from "./answer-gaps.js";
import { csvAggregates, csvReadings } from "./csv-writer.js";
import { jsonAggregates, jsonReadings } from "./json-series-writer.js";
import { ndjsonAggregates, ndjsonReadings } from "./ndjson-format.js";
import { parseReadingsParams, type ReadingsParams, type ReadingsRequest } from "./query-params.js";
import type { ReadingsSource, SeriesQuery } from "./reading.js";
import { GapLocator, gapsByChunkTime } from "./reading-gaps.js";
import { inPages, renderPages } from "./text-stream.js";

export type ReadingsRouteSource = ReadingsSource & GapSource;

export type ReadingsFormat = "json" | "csv" | "ndjson";

export const READINGS_MEDIA: Readonly<Record<ReadingsFormat, string>> = {
  json: "application/json",
  csv: "text/csv",
  ndjson: "application/x-ndjson",
};

/** The format the `Accept` header asks for first among those served; JSON otherwise. */
export function readingsFormat(accept: string | undefined): ReadingsFormat {
  for (const part of (accept ?? "").split(",")) {
    const media = part.split(";")[0]?.trim().toLowerCase();
    if (media === "text/csv") return "csv";
    if (media === "application/x-ndjson" || media === "application/ndjson") return "ndjson";
    if (media === "application/json") return "json";
  }
  return "json";
}

/**
 * `GET /v1/readings` (master/README.md, "Readings API"): the answer is streamed from the
 * store as it is written, so a range of any size costs the master one piece of text at a
 * time. Errors the store raises before the first piece are ordinary error answers; one
 * raised later can only cut the reply short (logged as `readings.stream_failed`).
 */
export function registerReadingsRoute(
  app: FastifyInstance,
  source: ReadingsRouteSource,
  logger: Logger,
  now: () => number = Date.now,
): void {
  app.get<{ Querystring: ReadingsParams }>(
    "/v1/readings",
    {
      schema: {
        summary:
          "Readings of a time window, raw or aggregated per step (`outpost telemetry readings`)",
        description:
          "JSON `{series:[{node,device,tag,stream,unit,points:[[ts,value,quality]]}],gaps,losses}` (with `step`: points are `[bucket start, value, count]`); `Accept: text/csv` gives one row per reading (`ts,node,device,tag,value,unit,quality`), `application/x-ndjson` one typed object per line. 64-bit integers are decimal strings in JSON and NDJSON, digits in CSV.",
        querystring: readingsQuery,
        produces: Object.values(READINGS_MEDIA),
        response: { 200: { description: "The readings, streamed" } },
      },
    },
    async (request, reply) => {
      const parsed = parseReadingsParams(request.query, now());
      const format = readingsFormat(request.headers.accept);
      const text = await startedText(await readingsText(source, parsed, format));
      text.on("error", (err) => logger.error({ err, url: request.url }, "readings.stream_failed"));
      return reply
        .type(
          `${READINGS_MEDIA[format]}; charset=utf-8${format === "csv" ? "; header=present" : ""}`,
        )
        .header("cache-control", "no-store")
        .send(text);
    },
  );

  app.get<{ Querystring: SeriesQuery }>(
    "/v1/readings/series",
    {
      schema: {
        summary: "Every series (node, device, tag) that has readings: the status page's picker",
        querystring: readingSeriesQuery,
        response: { 200: answer("", "series") },
      },
    },
    async (request) => {
      const { node, device } = request.query;
      return {
        series: await source.readingSeries({
          ...(node ? { node } : {}),
          ...(device ? { device } : {}),
        }),
      };
    },
  );
}

async function readingsText(
  source: ReadingsRouteSource,
  { query, aggregate }: ReadingsRequest,
  format: ReadingsFormat,
): Promise<AsyncIterable<string>> {
  if (aggregate) {
    const points = inPages(source.aggregateReadings({ ...query, ...aggregate }));
    if (format === "csv") return renderPages(points, csvAggregates());
    if (format === "ndjson") return renderPages(points, ndjsonAggregates());
    const context = await sequenceContext(source, query);
    const gaps = gapsByChunkTime(context.gaps, context.chunks, query.from, query.to);
    const losses = lossesInAnswer(context.losses, gaps, query);
    return renderPages(
      points,
      jsonAggregates(async () => ({ gaps, losses })),
    );
  }
  const readings = source.readingPages(query);
  if (format === "csv") return renderPages(readings, csvReadings());
  if (format === "ndjson") return renderPages(readings, ndjsonReadings());
  const context = await sequenceContext(source, query);
  const locator = new GapLocator(context.gaps);
  const losses = context.losses;
  return renderPages(
    readings,
    jsonReadings(
      async () => {
        const gaps = locator.located();
        return { gaps, losses: lossesInAnswer(losses, gaps, query) };
      },
      (r) => locator.observe(r.node, r.stream, r.seq, r.ts),
    ),
  );
}

/** A stream of `text` whose first piece is already read: a failing query throws here. */
async function startedText(text: AsyncIterable<string>): Promise<Readable> {
  const pieces = text[Symbol.asyncIterator]();
  const first = await pieces.next();
  return Readable.from(
    (async function* () {
      try {
        if (first.done) return;
        yield first.value;
        for (let next = await pieces.next(); !next.done; next = await pieces.next()) {
          yield next.value;
        }
      } finally {
        // A client that leaves ends the store's query too.
        await pieces.return?.();
      }
    })(),
  );
}
