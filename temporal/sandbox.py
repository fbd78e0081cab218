"""The workflow sandbox AgentRun runs in (the worker) and is replayed in (`orch replay`): the
SDK's, with two of its costs taken out.

The SDK's sandbox enters a run's sandbox by `exec`-ing a short source string: to create the
run's instance, for each activation, and, while it decodes and encodes an activation's payloads,
once per payload sequence to ask the run for that payload's serialization context (a 3-step
run: 8 activations, 58 such questions). Each `exec` of a string compiles it first and puts the
sandbox's import hooks and restricted builtins in place and back.

- This runner's instances compile each string once and `exec` the code object: the same code in
  the same namespaces.
- The serialization and external-store context questions are the SDK's own code reading the
  run's pending commands (no workflow code, no import), so they are asked of the sandboxed
  instance directly, without entering the sandbox.

Replaying the recorded corpus takes about a fifth less CPU with it (docs/architecture.md,
"Decisions beyond DESIGN.md"). It overrides `_Instance`, a private class of the SDK:
tests/temporal/test_sandbox.py fails if a later SDK moves what it overrides.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import CodeType
from typing import Any, cast

from temporalio.converter import SerializationContext
from temporalio.converter._extstore import StorageDriverStoreContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.worker.workflow_sandbox._in_sandbox import InSandbox
from temporalio.worker.workflow_sandbox._runner import _Instance

# The workflow code (every module of `workflows/`, the run's own class included) and the JSON
# Schema validator it uses are deterministic and hold no state of a run at module level: passed
# through, they are imported once per process instead of once per run in its sandbox.
RESTRICTIONS = SandboxRestrictions.default.with_passthrough_modules("workflows", "jsonschema")


@functools.lru_cache(maxsize=64)
def compiled(snippet: str) -> CodeType:
    """`snippet` compiled as `exec` compiles a string (the few the sandbox runs, cached)."""
    return compile(snippet, "<string>", "exec")


class _CompiledInstance(_Instance):
    def _run_code(self, code: str, **extra_globals: Any) -> None:
        super()._run_code(compiled(code), **extra_globals)  # type: ignore[arg-type]

    def get_serialization_context(
        self, command_info: CommandInfo | None
    ) -> SerializationContext | None:
        return self._in_sandbox().get_serialization_context(command_info)

    def get_external_store_context(
        self, command_info: CommandInfo | None
    ) -> StorageDriverStoreContext:
        return self._in_sandbox().get_external_store_context(command_info)

    def _in_sandbox(self) -> InSandbox:
        """The run's instance inside its sandbox, which `_create_instance` put there. Asked for
        a context, it runs the SDK's own code reading the run's pending commands."""
        return cast(InSandbox, self.globals_and_locals["__temporal_in_sandbox"])


@dataclass(frozen=True)
class CompiledSandboxRunner(SandboxedWorkflowRunner):
    """`SandboxedWorkflowRunner` whose instances compile the sandbox's snippets once."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _CompiledInstance(det, self.runner_class, self.restrictions)


def workflow_runner() -> CompiledSandboxRunner:
    """The runner the worker runs AgentRun with, and `orch replay` replays it with."""
    return CompiledSandboxRunner(restrictions=RESTRICTIONS)
