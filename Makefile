# The two commands a newcomer needs: `make lab-up` and `make test`. Both set themselves up.
TOPO ?= topologies/ha-pair.yml
LAB ?=
BACKEND ?=
PYTEST_ARGS ?=
# Two workers: a real-lab module mostly waits on its lab, so two files run side by side (each
# module's lab is its own; a lab several modules share is one per worker, tests/lab/conftest.py
# for_worker). PARALLEL= runs one test at a time.
PARALLEL ?= -n 2 --dist loadfile
BIGLAB = .venv/bin/biglab

.PHONY: setup lab-up lab-down test unit bench clean image dockerd

setup:
	@./scripts/bootstrap.sh

lab-up: setup $(if $(filter docker,$(BACKEND)),image)
	$(BIGLAB) up $(TOPO)$(if $(BACKEND), --backend $(BACKEND))

lab-down: setup
	$(BIGLAB) down $(if $(LAB),$(LAB),--all)

test: setup
	.venv/bin/lint-imports
	.venv/bin/python -m pytest $(PARALLEL) $(PYTEST_ARGS)

# The Docker backend's node image (starts dockerd if needed; no registry needed: see lab/runtime/image.py).
image: setup dockerd
	.venv/bin/python -m lab.runtime.image

dockerd: setup
	@./scripts/dockerd.sh

unit: setup
	.venv/bin/python -m pytest tests/unit $(PYTEST_ARGS)

bench: setup
	cd bench && for b in lab_up failover sync ltm rest dns chaos; do ../.venv/bin/python $$b.py || exit 1; done
