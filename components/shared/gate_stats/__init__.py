"""The performance gate's statistics: paired tests of two models scored on the same examples.

Shared by the champion task (``components/champion``, in its image) and ``kfops gate``,
so both reach the same verdict from the same code. One job per module:

* ``metrics``: which metrics exist, their direction and task, valid tolerance and alpha;
* ``decide``: labels and scores in, one `Decision` out (picks the test per metric);
* ``paired``: the `PairedTest` result and the normal-theory pieces every test shares;
* ``accuracy``, ``macro_f1``, ``roc_auc``, ``log_loss``, ``regression``: one test family each.

Import the module you need (``from components.shared.gate_stats.decide import decide``):
this package imports nothing itself, so reading the metric list does not load numpy.
"""
