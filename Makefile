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

#   make mutation         mutation testing (cosmic-ray) of the modules in
#                         benchmarks/mutation/modules.toml; writes docs/mutation.md. Hours for all;
#                         MODULES="kfops/auth.py ..." for some, JOBS=2 for two at once. Resumes.
#                         (adds the `mutation` dependency group to .venv; bootstrap removes it again)
#   make mutation-faults  the hand-made faults of benchmarks/mutation/faults.toml must each fail
#                         their tests (a few minutes).
MODULES ?=
JOBS ?= 1

.PHONY: mutation mutation-faults
mutation:
	test -x .venv/bin/uv || ./scripts/bootstrap
	.venv/bin/uv sync --frozen --inexact --group mutation --python .venv/bin/python --quiet
	.venv/bin/python benchmarks/mutation/run.py --jobs $(JOBS) $(if $(MODULES),--modules $(MODULES))

mutation-faults:
	test -x .venv/bin/uv || ./scripts/bootstrap
	.venv/bin/uv sync --frozen --inexact --group mutation --python .venv/bin/python --quiet
	.venv/bin/python benchmarks/mutation/run.py --faults
