from node.backoff import Backoff


def test_delays_double_up_to_the_cap_and_reset_after_success():
    b = Backoff(initial=0.25, factor=2, maximum=2)
    assert [b.next_delay() for _ in range(6)] == [0.25, 0.5, 1, 2, 2, 2]
    b.reset()
    assert b.next_delay() == 0.25
