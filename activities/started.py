"""The start of a workflow execution, read from Temporal: the first event of its history."""

from __future__ import annotations

from datetime import timedelta

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import WorkflowExecutionStartedEventAttributes
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client


async def started_event(
    client: Client, workflow_id: str, run_id: str, timeout: timedelta
) -> WorkflowExecutionStartedEventAttributes | None:
    """The started event of execution `run_id` ("": the current one) of `workflow_id` (its
    input, the execution it continued), one page of one event; None if it has none."""
    request = GetWorkflowExecutionHistoryRequest(
        namespace=client.namespace,
        execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        maximum_page_size=1,
    )
    response = await client.workflow_service.get_workflow_execution_history(
        request, timeout=timeout
    )
    for event in response.history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            return event.workflow_execution_started_event_attributes
    return None
