import { seededRandom } from "../../common/index.js";

/** Alarm bits in `TurbineState.alarms`. */
export const ALARM = { overspeed: 1, highTemperature: 2, highVibration: 4, gridFault: 8 } as const;

export interface TurbineState {
  /** Steps taken since the start (one per `step()`). */
  step: number;
  windSpeed: number; // m/s
  rotorRpm: number;
  powerKw: number;
  pitchDeg: number;
  nacelleTempC: number;
  vibrationMmS: number;
  alarms: number;
  running: boolean;
  /** Energy produced, in Wh, as an exact 64-bit counter. */
  energyWh: bigint;
}

const RATED_KW = 2000;
const CUT_IN = 3;
const RATED_WIND = 12;
const CUT_OUT = 25;
const RATED_RPM = 16;

/**
 * A 2 MW wind turbine with plausible physics: a mean-reverting gusty wind, a cubic power
 * curve between cut-in and rated wind, pitch regulation above rated, a first-order
 * nacelle temperature and vibration that grows with rotor speed. The same seed gives the
 * same sequence of states.
 */
export class TurbineModel {
  private readonly random: () => number;
  private s: TurbineState;
  private energyMilliWh = 0;

  constructor(
    seed: number,
    private readonly stepMs = 100,
  ) {
    this.random = seededRandom(seed);
    this.s = {
      step: 0,
      windSpeed: 6 + this.random() * 6,
      rotorRpm: 0,
      powerKw: 0,
      pitchDeg: 90,
      nacelleTempC: 25,
      vibrationMmS: 0.5,
      alarms: 0,
      running: false,
      energyWh: 0n,
    };
    this.step();
  }

  get state(): Readonly<TurbineState> {
    return this.s;
  }

  step(): Readonly<TurbineState> {
    const s = this.s;
    const dt = this.stepMs / 1000;
    const gauss = () => (this.random() + this.random() + this.random() - 1.5) * 2;
    // Ornstein-Uhlenbeck around 9 m/s with gusts.
    const wind = Math.min(
      32,
      Math.max(0, s.windSpeed + 0.05 * (9 - s.windSpeed) * dt + 0.6 * Math.sqrt(dt) * gauss()),
    );
    const running = wind >= CUT_IN && wind < CUT_OUT;
    const ratio = running ? Math.min(1, ((wind - CUT_IN) / (RATED_WIND - CUT_IN)) ** 3) : 0;
    const power = running ? RATED_KW * ratio * (1 + 0.01 * gauss()) : 0;
    const targetRpm = running ? RATED_RPM * Math.min(1, 0.4 + 0.6 * ratio ** (1 / 3)) : 0;
    const rpm = s.rotorRpm + (targetRpm - s.rotorRpm) * Math.min(1, dt * 0.5);
    const pitch = !running ? 90 : wind > RATED_WIND ? Math.min(30, (wind - RATED_WIND) * 2.2) : 0;
    const targetTemp = 25 + 30 * (power / RATED_KW);
    const temp = s.nacelleTempC + (targetTemp - s.nacelleTempC) * Math.min(1, dt * 0.02);
    const vibration = Math.max(0, 0.5 + 0.25 * rpm + 0.3 * gauss());
    let alarms = 0;
    if (rpm > RATED_RPM * 1.1) alarms |= ALARM.overspeed;
    if (temp > 70) alarms |= ALARM.highTemperature;
    if (vibration > 6) alarms |= ALARM.highVibration;
    this.energyMilliWh += Math.max(0, power) * 1000 * (dt / 3600) * 1000;
    const whole = Math.floor(this.energyMilliWh / 1000);
    this.energyMilliWh -= whole * 1000;
    this.s = {
      step: s.step + 1,
      windSpeed: wind,
      rotorRpm: rpm,
      powerKw: Math.max(0, power),
      pitchDeg: pitch,
      nacelleTempC: temp,
      vibrationMmS: vibration,
      alarms,
      running,
      energyWh: s.energyWh + BigInt(whole),
    };
    return this.s;
  }
}
