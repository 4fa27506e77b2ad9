from tests.reliability.fuzzing import write_log


def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ARG001 - pytest's hook signature
    write_log()
