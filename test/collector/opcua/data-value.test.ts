// First: node-opcua's start-up warnings go to the logger, not stdout.
import "../../../collector/opcua/library-logs.js";
import { strict as assert } from "node:assert";
import {
  DataType,
  DataValue,
  Range,
  StatusCode,
  StatusCodes,
  Variant,
  VariantArrayType,
} from "node-opcua";
import { sampleOf, sourceStatus } from "../../../collector/opcua/data-value.js";

const dv = (variant: ConstructorParameters<typeof Variant>[0]) =>
  new DataValue({ value: new Variant(variant) });
const pair = (n: bigint): [number, number] => {
  const u = BigInt.asUintN(64, n);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
};

describe("OPC-UA data values as samples and statuses", () => {
  it("classes a status by its top bits and names it, info bits included, unless plain Good", () => {
    assert.deepEqual(sourceStatus(StatusCodes.Good), { severity: "good" });
    assert.deepEqual(sourceStatus(StatusCodes.GoodClamped), {
      severity: "good",
      name: "GoodClamped",
    });
    assert.deepEqual(sourceStatus(StatusCode.makeStatusCode(StatusCodes.Good, "Overflow")), {
      severity: "good",
      name: "Good#Overflow",
    });
    assert.deepEqual(sourceStatus(StatusCodes.UncertainSensorNotAccurate), {
      severity: "uncertain",
      name: "UncertainSensorNotAccurate",
    });
    assert.deepEqual(sourceStatus(StatusCodes.BadNodeIdUnknown), {
      severity: "bad",
      name: "BadNodeIdUnknown",
    });
    const limits = StatusCode.makeStatusCode(
      StatusCodes.UncertainLastUsableValue,
      "InfoTypeDataValue | LimitLow",
    );
    assert.deepEqual(sourceStatus(limits), {
      severity: "uncertain",
      name: "UncertainLastUsableValue#InfoTypeDataValue|LimitLow",
    });
  });

  it("turns scalars into values, 64-bit integers exact", () => {
    assert.deepEqual(sampleOf(dv({ dataType: DataType.Double, value: 2.5 })), {
      kind: "value",
      value: 2.5,
    });
    assert.deepEqual(
      sampleOf(
        dv({
          dataType: DataType.UInt64,
          arrayType: VariantArrayType.Scalar,
          value: pair(2n ** 64n - 1n),
        }),
      ),
      {
        kind: "value",
        value: 2n ** 64n - 1n,
      },
    );
    assert.deepEqual(
      sampleOf(
        dv({
          dataType: DataType.Int64,
          arrayType: VariantArrayType.Scalar,
          value: pair(-(2n ** 63n)),
        }),
      ),
      {
        kind: "value",
        value: -(2n ** 63n),
      },
    );
    assert.deepEqual(sampleOf(dv({ dataType: DataType.Null })), { kind: "empty" });
    assert.deepEqual(sampleOf(new DataValue({})), { kind: "empty" });
  });

  it("turns arrays of numbers, 64-bit integers and booleans into arrays", () => {
    const items = (s: ReturnType<typeof sampleOf>) => {
      assert.equal(s.kind, "array");
      return s.kind === "array" ? s.items() : [];
    };
    const floats = sampleOf(
      dv({ dataType: DataType.Float, arrayType: VariantArrayType.Array, value: [0.5, 1.25] }),
    );
    assert.deepEqual(items(floats), [0.5, 1.25]);
    assert.ok(Array.isArray(items(floats)), "a plain array, not a typed one");
    const u64 = [0n, 2n ** 63n, 2n ** 64n - 1n];
    assert.deepEqual(
      items(
        sampleOf(
          dv({
            dataType: DataType.UInt64,
            arrayType: VariantArrayType.Array,
            value: u64.map(pair),
          }),
        ),
      ),
      u64,
    );
    const i64 = [-(2n ** 63n), 2n ** 53n + 1n];
    assert.deepEqual(
      items(
        sampleOf(
          dv({ dataType: DataType.Int64, arrayType: VariantArrayType.Array, value: i64.map(pair) }),
        ),
      ),
      i64,
    );
    assert.deepEqual(
      items(
        sampleOf(
          dv({ dataType: DataType.Boolean, arrayType: VariantArrayType.Array, value: [true] }),
        ),
      ),
      [true],
    );
  });

  it("names the type of what a record cannot hold", () => {
    const names = [
      dv({ dataType: DataType.String, arrayType: VariantArrayType.Array, value: ["a"] }),
      dv({
        dataType: DataType.Double,
        arrayType: VariantArrayType.Matrix,
        value: [1, 2, 3, 4],
        dimensions: [2, 2],
      }),
      dv({ dataType: DataType.ExtensionObject, value: new Range({ low: 0, high: 1 }) }),
      dv({ dataType: DataType.ByteString, value: Buffer.from("x") }),
    ].map((d) => {
      const s = sampleOf(d);
      return s.kind === "unsupported" ? s.dataType : s.kind;
    });
    assert.deepEqual(names, ["String[]", "Double[,]", "ExtensionObject", "ByteString"]);
  });
});
