"""Sharing one association's roster between several office PCs (PC間の共有), in the window.

The dialogs here only ask and show; the work (keys, the relay, the recovery sheet's words) is
done by :mod:`sync.replica.service`, always on a worker thread with progress and Cancel.
:func:`desktop.ui.sharing.actions.add_sharing_actions` puts the commands in the 同期 menu.
"""
