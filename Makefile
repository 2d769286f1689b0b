# The two commands a newcomer needs: `make lab-up` and `make test`. Both set themselves up.
TOPO ?= topologies/ha-pair.yml
LAB ?=
PYTEST_ARGS ?=
BIGLAB = .venv/bin/biglab

.PHONY: setup lab-up lab-down test unit bench clean

setup:
	@./scripts/bootstrap.sh

lab-up: setup
	$(BIGLAB) up $(TOPO)

lab-down: setup
	$(BIGLAB) down $(if $(LAB),$(LAB),--all)

test: setup
	.venv/bin/python -m pytest $(PYTEST_ARGS)

unit: setup
	.venv/bin/python -m pytest tests/unit $(PYTEST_ARGS)

bench: setup
	cd bench && for b in lab_up failover sync ltm dns; do ../.venv/bin/python $$b.py || exit 1; done
