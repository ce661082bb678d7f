import pytest

from tests.applications import factories as f


@pytest.fixture
def make_app(merchant_user, channel, reviewer):
    """make_app(status="draft", **kwargs): an application of `merchant` in that state."""

    def _make(status="draft", **kwargs):
        app = f.application(merchant_user, channel, **kwargs)
        if status == "withdrawn":
            f.workflow.application_transition(application=app, to="withdrawn", actor=merchant_user)
        elif status in ("needs_info", "rejected"):
            f.advance(app, "under_review", merchant_user=merchant_user, reviewer=reviewer)
            f.workflow.application_transition(application=app, to=status, actor=reviewer, reason="营业执照模糊")
        else:
            f.advance(app, status, merchant_user=merchant_user, reviewer=reviewer)
        app.refresh_from_db()
        return app

    return _make
