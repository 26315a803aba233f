"""Keep a workflow's in-memory task tree small: prune the finished history above its live part.

SpiffWorkflow keeps every task ever run in one tree; each loop of the procedure (a correction,
a revisit) makes it deeper. Serializing it grows with history, and its tree iterator stops at
depth 1000, after which a case silently stops advancing. The history is already in the audit
log (``case_event``), so the tree only needs what is still live plus the task its live part
inherits data from.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import TaskState


def _path_to_root(task: Any) -> list[Any]:
    path = []
    while task is not None:
        path.append(task)
        task = task.parent
    path.reverse()
    return path


def prune_history(workflow: BpmnWorkflow) -> int:
    """Detach the finished chain between the root and the live subtree; return tasks removed.

    Keeps the root, the live subtree, and the parent of its top (the task it inherits data
    from). Does nothing if anything outside the live subtree is unfinished or is a subprocess.
    """
    live = [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not live:
        return 0
    # The live tasks' lowest common ancestor lies on the first one's path to the root: from each
    # other task, walk up only until that path is met (not all the way to the root).
    first = _path_to_root(live[0])
    depth = {id(task): index for index, task in enumerate(first)}
    size = len(first)
    for task in live[1:]:
        while task is not None and id(task) not in depth:
            task = task.parent
        size = min(size, depth[id(task)] + 1) if task is not None else 0
    common = first[:size]
    # common: root … lca. Keep lca's parent as the anchor that its subtree inherits data from.
    if len(common) < 4:
        return 0
    root, anchor = common[0], common[-2]
    doomed_tops = [common[1]]
    doomed: list[Any] = []
    stack = list(doomed_tops)
    while stack:
        task = stack.pop()
        if task is anchor:
            continue
        doomed.append(task)
        stack.extend(task.children)
    if any(not t.has_state(TaskState.FINISHED_MASK) or t.id in workflow.subprocesses for t in doomed):
        return 0
    for task in doomed:
        workflow.tasks.pop(task.id, None)
    anchor.parent = root
    root.children = [anchor]
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = None
    return len(doomed)
