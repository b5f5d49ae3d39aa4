"""Runs the binding's unittest suite for `make test` (tests/run-tests.sh):
prints one line per test class and, last, "python-tally PASSED FAILED"
(skipped tests are neither). Exit status 1 if any failed."""

import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
suite = unittest.defaultTestLoader.discover(here)
stream = open(os.devnull, "w") if os.environ.get("QUIET") else sys.stderr
result = unittest.TextTestRunner(stream=stream, verbosity=1).run(suite)
bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
skipped = len(result.skipped)
for test, why in result.skipped:
    print("python %-40s SKIP: %s" % (test.id().split(".", 1)[1], why))
for test, tb in result.failures + result.errors:
    print("FAIL python %s\n%s" % (test.id(), tb))
print("python-tally %d %d" % (result.testsRun - bad - skipped, bad))
sys.exit(1 if bad else 0)
