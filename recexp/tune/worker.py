"""One worker process of a local study: ``python -m recexp.tune.worker STUDY_DIR``.

``recexp tune --jobs K`` starts K of these; each asks the study's shared journal storage
for trials and runs them one at a time until the study has its trials (or the deadline
passes). A worker is an ordinary process: TensorFlow trains in it alone.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recexp.tune.worker")
    parser.add_argument("study_dir")
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--session", type=int, default=0)
    parser.add_argument("--deadline", type=float, default=None)
    parser.add_argument("--parallel", action="store_true")
    args = parser.parse_args(argv)

    from recexp.errors import RecexpError
    from recexp.tune.study import Study, work

    try:
        work(
            Study.load(args.study_dir),
            worker=args.worker,
            session=args.session,
            deadline=args.deadline,
            parallel=args.parallel,
        )
    except KeyboardInterrupt:
        return 130
    except RecexpError as error:
        print(f"worker {args.worker}: {error.line()}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
