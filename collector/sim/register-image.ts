import type { WordOrder } from "../config.js";
import { registersFromBytes } from "../modbus/decode.js";
import { ALARM, type TurbineState } from "./turbine-model.js";

/** The simulator's Modbus data: every unit id sees the same image. */
export class RegisterImage {
  readonly holding = new Uint16Array(65536);
  readonly input = new Uint16Array(65536);
  readonly coils = new Uint8Array(65536);
  readonly discrete = new Uint8Array(65536);

  /** Where `bench` and the extra tags start: holding/input registers EXTRA_BASE… */
  static readonly EXTRA_BASE = 1000;

  /**
   * Holding/input registers SAMPLE_ADDRESS…+1 (uint32 `ABCD`): the sample number. A read
   * covering SAMPLE_ADDRESS takes the next number first, so every reading a client takes
   * carries its own number and end-to-end tests can check loss and duplication exactly.
   */
  static readonly SAMPLE_ADDRESS = 16;
  /** Sample numbers handed out so far (the last one served is this value). */
  samplesServed = 0;

  constructor(private readonly extraRegisters = 0) {}

  /** Called by a server about to answer a read of registers `[address, address + count)`. */
  beforeRead(address: number, count: number): void {
    const at = RegisterImage.SAMPLE_ADDRESS;
    if (address > at || address + count <= at) return;
    this.samplesServed = (this.samplesServed + 1) >>> 0;
    const words = [this.samplesServed >>> 16, this.samplesServed & 0xffff];
    put(this.holding, at, words);
    put(this.input, at, words);
  }

  /** Writes the turbine's state at the addresses listed in collector/README.md (Turbine simulator). */
  update(s: Readonly<TurbineState>): void {
    for (const table of [this.holding, this.input]) {
      put(table, 0, f32(s.windSpeed, "ABCD"));
      put(table, 2, f32(s.rotorRpm, "CDAB"));
      put(table, 4, f32(s.powerKw, "ABCD"));
      table[6] = Math.round(s.pitchDeg * 10) & 0xffff;
      table[7] = Math.round(s.nacelleTempC * 10) & 0xffff;
      table[8] = Math.round(s.vibrationMmS * 100) & 0xffff;
      table[9] = s.alarms;
      const energy = Buffer.alloc(8);
      energy.writeBigUInt64BE(s.energyWh);
      put(table, 10, registersFromBytes(energy, "ABCD"));
      const uptime = Buffer.alloc(4);
      uptime.writeUInt32BE(Math.floor(s.step / 10) >>> 0);
      put(table, 14, registersFromBytes(uptime, "ABCD"));
      for (let i = 0; i < this.extraRegisters; i++) {
        table[RegisterImage.EXTRA_BASE + i] = (s.step + i) & 0xffff;
      }
    }
    this.coils[0] = s.running ? 1 : 0;
    this.coils[1] = s.alarms !== 0 ? 1 : 0;
    this.discrete[0] = s.running ? 1 : 0;
    this.discrete[1] = s.alarms & ALARM.overspeed ? 1 : 0;
    this.discrete[2] = s.alarms & ALARM.highTemperature ? 1 : 0;
    this.discrete[3] = s.alarms & ALARM.highVibration ? 1 : 0;
  }
}

function f32(value: number, order: WordOrder): number[] {
  const b = Buffer.alloc(4);
  b.writeFloatBE(value);
  return registersFromBytes(b, order);
}

function put(table: Uint16Array, address: number, words: readonly number[]): void {
  words.forEach((w, i) => {
    table[address + i] = w;
  });
}
