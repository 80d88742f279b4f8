"""Exceptions by cause. The CLI turns each into one line on stderr and an exit code.

Problems found in a returned form are not exceptions: they are `findings.Finding` records.
"""


class EcoxlError(Exception):
    """Base class: anything ecoxl reports to the user as one line."""

    exit_code = 1


class InputError(EcoxlError):
    """An input file cannot be used at all (empty, binary, wrong encoding, no tasks)."""

    exit_code = 2


class RegistryError(EcoxlError):
    """The registry workbook or JSON has invalid content (the message names sheet and cell)."""

    exit_code = 2


class ConfigError(EcoxlError):
    """A setting in ecoxl.toml or on the command line is missing or invalid."""

    exit_code = 2


class WorkspaceError(EcoxlError):
    """The folder is not an ecoxl workspace, or a workspace file is missing."""

    exit_code = 2


class LedgerError(EcoxlError):
    """The ledger database cannot be opened or is not an ecoxl ledger."""

    exit_code = 2


class MailError(EcoxlError):
    """Mail could not be composed, sent or fetched."""

    exit_code = 1
