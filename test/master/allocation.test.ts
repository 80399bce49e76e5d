import { strict as assert } from "node:assert";
import { type NodeCapacity, placeInstance } from "../../master/index.js";

const echo = "https://example.org/echo/software.yaml";

function node(name: string, overrides: Partial<NodeCapacity> = {}): NodeCapacity {
  return {
    name,
    partitions: 4,
    isolatedCores: [2, 3],
    software: [echo],
    usedPartitions: [],
    usedCores: [],
    ...overrides,
  };
}

const request = { name: "i", software: echo, parameters: {}, cores: 0 };

describe("placeInstance", () => {
  it("spreads: the node with the most free partitions wins, ties go to the first name", () => {
    const nodes = [
      node("b"),
      node("a", { usedPartitions: [0] }),
      node("c"),
      node("d", { software: [] }),
    ];
    assert.deepEqual(placeInstance(request, nodes), { node: "b", partition: 0, cores: [] });
  });

  it("gives the lowest free partition and the lowest free isolated cores", () => {
    const placed = placeInstance({ ...request, cores: 2 }, [
      node("a", { isolatedCores: [7, 3, 5, 1], usedPartitions: [0, 2], usedCores: [3] }),
    ]);
    assert.deepEqual(placed, { node: "a", partition: 1, cores: [1, 5] });
  });

  it("skips nodes without the software, a free partition or enough free cores, saying why for each", () => {
    assert.throws(
      () =>
        placeInstance({ ...request, cores: 1 }, [
          node("a", { software: [] }),
          node("b", { partitions: 0 }),
          node("c", { partitions: 1, usedPartitions: [0] }),
          node("d", { usedCores: [2, 3] }),
        ]),
      {
        code: "E_MASTER_NO_CAPACITY",
        message:
          "no node can take instance 'i': a: software not supplied; b: no partitions (has the node said hello?); c: all 1 partitions used; d: 0 free isolated cores, 1 asked",
      },
    );
    assert.throws(() => placeInstance(request, []), { message: /\(no nodes\)/ });
  });

  it("places on the named node only", () => {
    assert.equal(placeInstance({ ...request, node: "c" }, [node("b"), node("c")]).node, "c");
    assert.throws(() => placeInstance({ ...request, node: "z" }, [node("b")]), {
      code: "E_MASTER_NO_CAPACITY",
      message: "node 'z' does not exist",
    });
  });
});
