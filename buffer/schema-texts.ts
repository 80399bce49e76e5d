import { join } from "node:path";
import { BufferInputError } from "./errors.js";
import type { FileLayer } from "./file-layer.js";

/** Largest schema text a producer may define (the master takes at most 64 KiB). */
export const MAX_SCHEMA_TEXT_BYTES = 64 * 1024;

/**
 * The schema text each fingerprint stands for, as the buffer's producers define it
 * (`DiskBuffer.defineSchema`), kept in `DIR/schemas/<fingerprint hex>` so a forwarder of
 * this process or a later one can send it before the chunks that carry the fingerprint,
 * also after the producer changed its schema. Opaque text: the buffer does not read it.
 */
export class SchemaTexts {
  private constructor(
    private readonly fs: FileLayer,
    private readonly dir: string,
    private readonly texts: Map<string, string>,
  ) {}

  static async load(fs: FileLayer, bufferDir: string): Promise<SchemaTexts> {
    const dir = join(bufferDir, "schemas");
    const texts = new Map<string, string>();
    if ((await fs.readdir(bufferDir)).includes("schemas")) {
      for (const name of await fs.readdir(dir)) {
        // A write cut short left a temporary file; its define never resolved.
        if (!/^(?:[0-9a-f]{2}){1,255}$/.test(name)) continue;
        texts.set(name, (await fs.readFile(join(dir, name))).toString("utf8"));
      }
    }
    return new SchemaTexts(fs, dir, texts);
  }

  get(fingerprint: Uint8Array): string | undefined {
    return this.texts.get(Buffer.from(fingerprint).toString("hex"));
  }

  /** Stores the text durably once (a new text for a known fingerprint replaces it). */
  async define(fingerprint: Uint8Array, text: string): Promise<void> {
    const name = Buffer.from(fingerprint).toString("hex");
    if (name.length === 0 || name.length > 510)
      throw new BufferInputError("a schema fingerprint is 1 to 255 bytes");
    const bytes = Buffer.from(text, "utf8");
    if (bytes.length > MAX_SCHEMA_TEXT_BYTES)
      throw new BufferInputError(
        `schema text of ${bytes.length} bytes exceeds ${MAX_SCHEMA_TEXT_BYTES}`,
      );
    if (this.texts.get(name) === text) return;
    await this.fs.mkdir(this.dir);
    const temporary = join(this.dir, `${name}.tmp`);
    await this.fs.unlink(temporary).catch(() => undefined);
    const file = await this.fs.createExclusive(temporary);
    try {
      await file.append(bytes);
      await file.datasync();
    } finally {
      await file.close();
    }
    await this.fs.rename(temporary, join(this.dir, name));
    await this.fs.fsyncDir(this.dir);
    this.texts.set(name, text);
  }
}
