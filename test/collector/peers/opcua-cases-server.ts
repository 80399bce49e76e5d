/**
 * A node-opcua server whose variables are the cases of the collector's quality table:
 * Good-family, Uncertain and Bad statuses (set on the DataValue), NaN and ±Infinity, an
 * empty variable, arrays of every supported kind, arrays too long, unsupported types,
 * a 1 MiB string and a counter that change on every sample. Runs in its own process.
 * argv[2]: JSON { dataDir, bigBytes? }. Prints {"port","endpoint"} once it serves.
 */
// First: node-opcua's console output goes to stderr, never to the stdout line read as hello.
import "../../../collector/opcua/library-logs.js";
import { join } from "node:path";
import {
  DataType,
  OPCUACertificateManager,
  OPCUAServer,
  Range,
  StatusCode,
  StatusCodes,
  Variant,
  VariantArrayType,
  type VariantOptions,
} from "node-opcua";

const options = JSON.parse(process.argv[2] ?? "{}") as { dataDir: string; bigBytes?: number };

const pair = (n: bigint): [number, number] => {
  const u = BigInt.asUintN(64, n);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
};
const array = (dataType: DataType, value: unknown): VariantOptions => ({
  dataType,
  arrayType: VariantArrayType.Array,
  value,
});

/** name → [variant, status the server reports with it] */
const CASES: Record<string, [VariantOptions, StatusCode]> = {
  Good: [{ dataType: DataType.Double, value: 1.25 }, StatusCodes.Good],
  Clamped: [{ dataType: DataType.Double, value: 12.5 }, StatusCodes.GoodClamped],
  Overflow: [
    { dataType: DataType.Double, value: 7 },
    StatusCode.makeStatusCode(StatusCodes.Good, "Overflow"),
  ],
  ClampedOverflow: [
    { dataType: DataType.Int32, value: -3 },
    StatusCode.makeStatusCode(StatusCodes.GoodClamped, "Overflow"),
  ],
  Uncertain: [{ dataType: DataType.Double, value: 3.5 }, StatusCodes.UncertainLastUsableValue],
  UncertainSensor: [
    { dataType: DataType.Float, value: 0.5 },
    StatusCodes.UncertainSensorNotAccurate,
  ],
  Bad: [{ dataType: DataType.Double, value: 99 }, StatusCodes.BadSensorFailure],
  NaN: [{ dataType: DataType.Double, value: Number.NaN }, StatusCodes.Good],
  PosInf: [{ dataType: DataType.Float, value: Number.POSITIVE_INFINITY }, StatusCodes.Good],
  NegInf: [{ dataType: DataType.Double, value: Number.NEGATIVE_INFINITY }, StatusCodes.Good],
  Empty: [{ dataType: DataType.Null }, StatusCodes.Good],
  DoubleArray: [array(DataType.Double, new Float64Array([1.5, -2.25, 1e300])), StatusCodes.Good],
  FloatArray: [array(DataType.Float, new Float32Array([0.5, 3.25])), StatusCodes.Good],
  Int16Array: [array(DataType.Int16, new Int16Array([-32768, 32767])), StatusCodes.Good],
  Int64Array: [
    array(DataType.Int64, [-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n].map(pair)),
    StatusCodes.Good,
  ],
  UInt64Array: [
    array(DataType.UInt64, [0n, 2n ** 63n, 2n ** 64n - 1n].map(pair)),
    StatusCodes.Good,
  ],
  BooleanArray: [array(DataType.Boolean, [true, false, true]), StatusCodes.Good],
  UncertainArray: [
    array(DataType.Double, new Float64Array([1, 2])),
    StatusCodes.UncertainInitialValue,
  ],
  EmptyArray: [array(DataType.Double, new Float64Array(0)), StatusCodes.Good],
  LongArray: [
    array(
      DataType.Double,
      Float64Array.from({ length: 2000 }, (_, i) => i),
    ),
    StatusCodes.Good,
  ],
  NaNArray: [array(DataType.Double, new Float64Array([1, Number.NaN])), StatusCodes.Good],
  StringArray: [array(DataType.String, ["a", "b"]), StatusCodes.Good],
  Matrix: [
    {
      dataType: DataType.Double,
      arrayType: VariantArrayType.Matrix,
      value: new Float64Array([1, 2, 3, 4]),
      dimensions: [2, 2],
    },
    StatusCodes.Good,
  ],
  Structure: [
    { dataType: DataType.ExtensionObject, value: new Range({ low: 0, high: 10 }) },
    StatusCodes.Good,
  ],
  Bytes: [{ dataType: DataType.ByteString, value: Buffer.from("abc") }, StatusCodes.Good],
};

/** The variable's declared type: what the case's value would be when it had one. */
function dataTypeOf(variant: VariantOptions): string {
  if (variant.dataType === DataType.Null) return "Double";
  if (variant.dataType === DataType.ExtensionObject) return "Range";
  return DataType[variant.dataType as DataType];
}

const pki = (name: string) =>
  new OPCUACertificateManager({
    rootFolder: join(options.dataDir, name),
    automaticallyAcceptUnknownCertificate: true,
  });
const server = new OPCUAServer({
  port: 0,
  hostname: "127.0.0.1",
  alternateHostname: ["127.0.0.1"],
  serverCertificateManager: pki("server-pki"),
  userCertificateManager: pki("user-pki"),
  disableDiscovery: true,
});
await server.initialize();
const addressSpace = server.engine.addressSpace;
if (!addressSpace) throw new Error("no address space");
const ns = addressSpace.getOwnNamespace();
const folder = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: "Cases" });
for (const [name, [variant, status]] of Object.entries(CASES)) {
  const v = ns.addVariable({
    componentOf: folder,
    browseName: name,
    nodeId: `s=${name}`,
    dataType: dataTypeOf(variant),
    valueRank: variant.arrayType === VariantArrayType.Matrix ? 2 : variant.arrayType ? 1 : -1,
    minimumSamplingInterval: 50,
  });
  v.setValueFromSource(new Variant(variant), status);
}
let step = 0;
const bigBytes = options.bigBytes ?? 1 << 20;
ns.addVariable({
  componentOf: folder,
  browseName: "Counter",
  nodeId: "s=Counter",
  dataType: "Int32",
  minimumSamplingInterval: 50,
  value: { get: () => new Variant({ dataType: DataType.Int32, value: step }) },
});
ns.addVariable({
  componentOf: folder,
  browseName: "Big",
  nodeId: "s=Big",
  dataType: "String",
  minimumSamplingInterval: 50,
  value: {
    get: () =>
      new Variant({ dataType: DataType.String, value: String(step).padStart(bigBytes, "x") }),
  },
});
// Both change every 100 ms, so each sample of them is a new value.
setInterval(() => step++, 100);
await server.start();
const port = Number(server.endpoints[0]?.port);
process.stdout.write(`${JSON.stringify({ port, endpoint: `opc.tcp://127.0.0.1:${port}` })}\n`);
process.on("SIGTERM", () => {
  void server.shutdown().then(() => process.exit(0));
});
