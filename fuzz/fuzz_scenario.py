"""Scenario files: a Scenario (whose steps describe themselves) or ScenarioError, nothing else."""
import atheris
import yaml

from common import ROOT, main, text

with atheris.instrument_imports(include=["lab"]):
    from lab.scenario.runner import ScenarioError, parse

SEEDS = [p.read_bytes() for p in sorted((ROOT / "scenarios").glob("*.yml"))]


def one_input(data: bytes) -> None:
    try:
        value = yaml.safe_load(text(data))
    except yaml.YAMLError:
        return   # not the scenario parser's input (the loader says "not valid YAML")
    try:
        scenario = parse(value, "fuzz.yml")
    except ScenarioError:
        return
    for step in scenario.steps:
        step.describe()


if __name__ == "__main__":
    main(one_input, SEEDS)
