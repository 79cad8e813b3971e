"""The OpenAI Batch API (and vLLM's offline ``run-batch``): submit, follow and collect a run.

:func:`submit_batch` writes the pending items of a run as Batch JSONL (one line per request:
``custom_id``, ``POST``, ``/v1/chat/completions`` and exactly the body the synchronous engine
would send, so cache keys match), uploads it (``files.create(purpose="batch")``) and creates the
batch; with ``submit=False`` it only writes the file (for vLLM ``run-batch`` or a cluster).
:func:`batch_status` polls; :func:`collect_batch` downloads the results (or reads a results file
produced elsewhere, ``from_file=``), stores every successful response in the run's cache under
the synchronous key and writes the rows through the same engine code, so ``annotations.jsonl``
and provenance are those of an online run plus ``meta.batch_id`` / ``meta.custom_id``.

One job per module: :mod:`~annotation.batch.files` (state, input and results files),
:mod:`~annotation.batch.api` (calls to the Batch API), :mod:`~annotation.batch.record` (the
manifest's ``batch`` section), and the steps :mod:`~annotation.batch.submit`,
:mod:`~annotation.batch.status` and :mod:`~annotation.batch.collect`.

Failed lines (error file, ``error`` set or a non-200 ``status_code``) become rows with
``meta.status = "error"``; rerunning the same ``edudial annotate ... --batch`` command submits
only items that are neither done (ok/invalid) nor waiting in an uncollected batch. Re-asks are
not possible inside a batch: invalid answers are recorded ``invalid`` (``reasks`` 0).
"""

from annotation.batch.api import TERMINAL
from annotation.batch.collect import BatchCollection, collect_batch
from annotation.batch.files import BATCH_URL, OFFLINE_ENDPOINT, custom_id
from annotation.batch.status import batch_status, cancel_batch
from annotation.batch.submit import BatchOptions, BatchSubmission, submit_batch

__all__ = [
    "BATCH_URL",
    "OFFLINE_ENDPOINT",
    "TERMINAL",
    "BatchCollection",
    "BatchOptions",
    "BatchSubmission",
    "batch_status",
    "cancel_batch",
    "collect_batch",
    "custom_id",
    "submit_batch",
]
