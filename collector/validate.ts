import { type CollectorConfig, isModbusDevice } from "./config.js";
import { CollectorConfigError } from "./errors.js";
import { tagWidth } from "./modbus/register-layout.js";
import { checkHangTimeout } from "./opcua/hang-bound.js";

/**
 * Checks what the JSON Schema cannot express; no I/O. Throws a CollectorConfigError
 * naming the key (`devices[1].tags[3].address`).
 */
export function validateCollectorConfig(config: CollectorConfig): void {
  const devices = new Set<string>();
  config.devices.forEach((device, d) => {
    if (devices.has(device.name)) {
      throw new CollectorConfigError(`devices[${d}].name`, `duplicate device '${device.name}'`);
    }
    devices.add(device.name);
    const tags = new Set<string>();
    device.tags.forEach((tag, t) => {
      if (tags.has(tag.name)) {
        throw new CollectorConfigError(
          `devices[${d}].tags[${t}].name`,
          `duplicate tag '${tag.name}' in device '${device.name}'`,
        );
      }
      tags.add(tag.name);
    });
    if (!isModbusDevice(device)) {
      checkHangTimeout(device, `devices[${d}]`);
      return;
    }
    device.tags.forEach((tag, t) => {
      const end = tag.address + tagWidth(tag);
      if (end > 65536) {
        throw new CollectorConfigError(
          `devices[${d}].tags[${t}].address`,
          `${tag.type} at ${tag.address} runs past register 65535`,
        );
      }
      if (tag.type !== "bool" && tagWidth(tag) > device.modbus.maxRegisters) {
        throw new CollectorConfigError(
          `devices[${d}].tags[${t}].length`,
          `wider than modbus.maxRegisters (${device.modbus.maxRegisters})`,
        );
      }
    });
  });
}
