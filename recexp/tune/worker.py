"""One worker process of a local study: ``python -m recexp.tune.worker STUDY_DIR``.

``recexp tune --jobs K`` starts K of these; each asks the study's shared journal storage
for trials and runs them one at a time, as children of the study, until the study has
its trials (or the deadline passes). A worker is an ordinary process: TensorFlow trains
in it alone. The process that started the workers owns the study's status.
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
    args = parser.parse_args(argv)

    from recexp.errors import RecexpError
    from recexp.signals import exit_code
    from recexp.tune.local import work
    from recexp.tune.settings import Study
    from recexp.tune.trial import attach

    try:
        study = Study.load(args.study_dir)
        work(
            study,
            attach(study),
            worker=args.worker,
            session=args.session,
            deadline=args.deadline,
            parallel=True,
        )
    except KeyboardInterrupt as error:
        return exit_code(error)
    except RecexpError as error:
        print(f"worker {args.worker}: {error.line()}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
