"""The fault registry: each verb belongs to one fault class, and the CLI's verbs, help and
argument parsing all come from it."""
import pytest

from lab import faults
from lab.cli import parser
from lab.model.faultspec import ChaosError


def test_every_verb_belongs_to_exactly_one_fault_kind():
    verbs = [v for f in faults.REGISTRY for v in f.verbs]
    assert len(verbs) == len(set(verbs))
    assert set(verbs) == {"link", "partition", "heal", "netem", "kill", "stop", "start", "pause", "resume",
                          "block", "unblock", "clock", "ntp", "cert", "version", "crash", "forge"}
    assert faults.verbs()[-2:] == ["list", "reset"]


def test_the_chaos_command_takes_its_verbs_and_help_from_the_registry(capsys):
    for verb in faults.verbs():
        assert parser().parse_args(["chaos", "lab1", verb]).verb_ == verb
    with pytest.raises(SystemExit):
        parser().parse_args(["chaos", "lab1", "explode"])
    with pytest.raises(SystemExit):
        parser().parse_args(["chaos", "--help"])
    shown = capsys.readouterr().out
    for f in faults.REGISTRY:
        assert all(synopsis in shown for synopsis, _ in f.usage)


def test_a_negative_skew_is_an_argument_not_an_option():
    clock = faults.fault_for("clock")
    args = clock.parse("clock", ["bigip1", "-2h", "--drift", "50"])
    assert (args.node, args.skew, args.drift) == ("bigip1", "-2h", 50.0)
    with pytest.raises(ChaosError, match="give one skew"):
        clock.parse("clock", ["bigip1", "-2h", "+1d"])


def test_bad_arguments_and_unknown_verbs_are_refused_as_chaos_errors():
    with pytest.raises(ChaosError, match="chaos link"):
        faults.fault_for("link").parse("link", ["bigip1:ha", "sideways"])
    with pytest.raises(ChaosError, match="unknown chaos verb 'explode'"):
        faults.fault_for("explode")
