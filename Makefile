# Developer entry points that need more than the Python test suite.
#
#   make e2e    the kind end-to-end suite (tests/e2e): needs Docker (>= 4 CPUs, 8 GiB),
#               kind v0.32.0 and kubectl on PATH; 25-40 minutes (budget: tests/e2e/README.md).
#               KFOPS_E2E_KEEP=1 keeps the cluster, KFOPS_E2E_CLUSTER=<name> reuses one;
#               KFOPS_E2E=required fails (instead of skipping) when Docker or kind is missing.

KFOPS_E2E ?= 1
PYTEST_ARGS ?=

.PHONY: e2e
e2e:
	./scripts/bootstrap
	KFOPS_E2E=$(KFOPS_E2E) .venv/bin/pytest tests/e2e -m kind -n 0 -v -rs $(PYTEST_ARGS)
