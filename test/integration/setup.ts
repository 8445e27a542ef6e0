// Integration tests start servers and workers and wait on real workflows: give each test two minutes.
jest.setTimeout(120_000);
