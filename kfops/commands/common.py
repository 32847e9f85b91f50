"""What several subcommands share: option defaults, the store check and the KFP token."""

from __future__ import annotations

import argparse
from pathlib import Path

from components.shared.errors import InputError

STORE_HELP = "store root (default: .kfops/store or $KFOPS_STORE)"
DEFAULT_PIPELINES_DIR = Path("build/pipelines")
DEFAULT_SCHEDULES = Path("schedules.yaml")


def readable_store(store: str) -> str:
    """``store`` if it exists: a mistyped store must not read as an empty one."""
    from components.shared.store import open_store

    open_store(store).check_readable()
    return store


def kfp_token(args: argparse.Namespace) -> str:
    """The bearer token: minted on EKS, or read from a file / $KF_PIPELINES_SA_TOKEN_PATH."""
    from kfops.kfp_session import read_token

    if args.token_from_eks:
        from kfops.auth import mint_kfp_token

        if args.token_file or not args.service_account:
            raise InputError("--token-from-eks needs --service-account NS/NAME and no --token-file")
        return mint_kfp_token(args.token_from_eks, args.service_account)
    return read_token(args.token_file)
