"""The retry policy: exponential backoff with jitter, bounded by attempts and by age."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.config import bridge_settings
from xqueue_bridge.outbox.retry import RetryPolicy

POLICIES = st.builds(
    RetryPolicy,
    max_attempts=st.none() | st.integers(1, 50),
    max_age=st.floats(1, 10**6),
    backoff_factor=st.floats(0.001, 100),
    backoff_max=st.floats(0.001, 10**4),
    jitter=st.floats(0, 1),
)


@settings(max_examples=300, deadline=None)
@given(policy=POLICIES, attempts=st.integers(1, 200), seed=st.integers(0, 2**32))
def test_each_delay_is_the_capped_exponential_scaled_by_the_jitter(policy, attempts, seed):
    base = min(policy.backoff_max, policy.backoff_factor * 2 ** (attempts - 1))
    delay = policy.delay(attempts, random.Random(seed))
    assert base * (1 - policy.jitter) - 1e-9 <= delay <= base * (1 + policy.jitter) + 1e-9


def test_delays_double_until_the_cap_and_spread_around_it():
    policy = RetryPolicy(backoff_factor=1.0, backoff_max=60.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    jittered = RetryPolicy(backoff_factor=1.0, backoff_max=60.0, jitter=0.5)
    delays = {round(jittered.delay(5, random.Random(seed)), 6) for seed in range(50)}
    assert len(delays) > 40 and min(delays) >= 8 and max(delays) <= 24  # 16 s, give or take half


@settings(max_examples=200, deadline=None)
@given(policy=POLICIES, attempts=st.integers(0, 100), age=st.floats(0, 2 * 10**6))
def test_the_budget_ends_at_max_attempts_or_max_age_whichever_comes_first(policy, attempts, age):
    by_count = policy.max_attempts is not None and attempts >= policy.max_attempts
    assert policy.exhausted(attempts, age) == (by_count or age >= policy.max_age)


def test_by_default_a_result_is_retried_for_a_day_whatever_the_number_of_attempts():
    policy = RetryPolicy.from_settings()
    assert policy.max_attempts is None and not policy.exhausted(500, 24 * 3600 - 1)
    assert policy.exhausted(1, 24 * 3600)
    # Waits without jitter: doubling from 1 s to the 10-minute cap; about 150 attempts fit in the day.
    plain = RetryPolicy(jitter=0.0)
    waited, attempts = 0.0, 0
    while not plain.exhausted(attempts + 1, waited):
        attempts += 1
        waited += plain.delay(attempts)
    assert 140 <= attempts <= 160


def test_the_policy_comes_from_settings_merged_with_its_defaults():
    with bridge_settings(DELIVERY_RETRY={"max_attempts": 3}):
        policy = RetryPolicy.from_settings()
    assert policy == RetryPolicy(max_attempts=3, max_age=24 * 3600, backoff_factor=1.0, backoff_max=600.0, jitter=0.5)
