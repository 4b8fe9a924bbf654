// An empty ES module: what starting Node with the ESM loader costs (the cold-start workload).
