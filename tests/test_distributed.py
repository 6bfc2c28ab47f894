"""helpers.distributed: torchrun launches return each rank's output, and failures surface, not hang.

Each launch starts Python processes (a few seconds), so these tests launch as few times as
they can: one success, one failure, one timeout.
"""

import os
import time

import matplotlib.pyplot as plt
import pytest

from helpers.distributed import LaunchError, draw_data_parallel, launch, torchrun_command

HELLO = """
import os
import sys
print("rank", os.environ["RANK"], "of", os.environ["WORLD_SIZE"], "args", sys.argv[1:])
print("second line")
"""

FAIL_ON_RANK_1 = """
import os
if os.environ["RANK"] == "1":
    raise ValueError("rank 1 broke on purpose")
print("rank 0 finished")
"""

ABORT_ON_RANK_1 = """
import os
import time
if os.environ["RANK"] == "1":
    print("rank 1 about to abort", flush=True)
    os.abort()  # as a C++ crash: a signal, no Python traceback
time.sleep(60)
"""

HANG = """
import os
import pathlib
import sys
import time
pathlib.Path(sys.argv[1], f"pid_{os.environ['RANK']}").write_text(str(os.getpid()))
print("rank", os.environ["RANK"], "sleeping", flush=True)
time.sleep(600)
"""


def test_command_runs_torchrun_through_this_python():
    command = torchrun_command("train.py", 3, args=["a", 1])
    assert command[1:] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=3",
                           "train.py", "a", "1"]
    assert "--redirects" in torchrun_command("train.py", 2, log_dir="logs")


def test_launch_returns_each_ranks_output_in_rank_order(tmp_path):
    script = tmp_path / "hello.py"
    script.write_text(HELLO)
    output = launch(script, nproc=2, args=["x"], timeout=120)
    assert output.splitlines() == [
        "[rank 0] rank 0 of 2 args ['x']", "[rank 0] second line",
        "[rank 1] rank 1 of 2 args ['x']", "[rank 1] second line",
    ]


def test_a_failing_rank_is_named_with_its_error(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text(FAIL_ON_RANK_1)
    with pytest.raises(LaunchError, match=r"rank 1 of 2 failed") as error:
        launch(script, nproc=2, timeout=120)
    assert "ValueError: rank 1 broke on purpose" in str(error.value)
    assert "rank 0 of 2 failed" not in str(error.value)


def test_a_rank_killed_by_a_signal_is_named_first_and_the_others_explained(tmp_path):
    script = tmp_path / "abort.py"
    script.write_text(ABORT_ON_RANK_1)
    with pytest.raises(LaunchError) as error:
        launch(script, nproc=2, timeout=60)
    message = str(error.value)
    assert message.startswith("abort.py: rank 1 of 2 failed (signal SIGABRT: it aborted")
    assert "rank 1 about to abort" in message  # the last lines it printed
    assert 'File "' in message and "abort.py" in message  # faulthandler: where in Python it crashed
    assert "rank 0 of 2 failed (signal SIGTERM: torchrun stopped it because another rank" in message


def test_a_hanging_script_is_stopped_with_every_process(tmp_path):
    script = tmp_path / "hang.py"
    script.write_text(HANG)
    start = time.perf_counter()
    with pytest.raises(LaunchError, match="did not finish within 20 s"):
        launch(script, nproc=2, args=[tmp_path], timeout=20)
    assert time.perf_counter() - start < 60
    pids = [int(p.read_text()) for p in tmp_path.glob("pid_*")]
    time.sleep(0.5)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # signal 0 only asks whether the process exists


def test_bad_arguments_fail_before_launching(tmp_path):
    with pytest.raises(FileNotFoundError, match="no script"):
        launch(tmp_path / "missing.py")
    (tmp_path / "ok.py").write_text("")
    with pytest.raises(ValueError, match="nproc"):
        launch(tmp_path / "ok.py", nproc=0)


def test_diagram_draws_one_row_per_process():
    for world_size in (2, 4):
        ax = draw_data_parallel(world_size)
        texts = [t.get_text() for t in ax.texts]
        assert sum(t.startswith("process ") for t in texts) == world_size
        assert f"shard {world_size - 1}\n{32 // world_size} rows" in texts
        plt.close(ax.figure)
