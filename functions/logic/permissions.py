"""Who may do what to an article. Roles: reporter, editor, partner (read-only), admin (everything)."""

from __future__ import annotations

from functions.models.article import ArticleSummary
from functions.models.errors import Forbidden
from functions.models.keys import ApiKeyRecord, Role

EDITORS: tuple[Role, ...] = ("editor", "admin")
WRITERS: tuple[Role, ...] = ("reporter", "editor", "admin")
READERS: tuple[Role, ...] = ("reporter", "editor", "partner", "admin")


def is_editor(principal: ApiKeyRecord) -> bool:
    return principal.role in EDITORS


def require_editor(principal: ApiKeyRecord, action: str) -> None:
    if not is_editor(principal):
        raise Forbidden(f"only an editor may {action}")


def require_can_edit(principal: ApiKeyRecord, article: ArticleSummary) -> None:
    """Editors edit everything; a reporter edits only their own articles that are not yet public."""
    if is_editor(principal):
        return
    if principal.role != "reporter":
        raise Forbidden(f"a {principal.role} key may not edit articles")
    if article.created_by != principal.key_id:
        raise Forbidden("reporters may edit only the articles they created")
    if article.status not in ("draft", "scheduled"):
        raise Forbidden(f"the article is {article.status}; only an editor may change it now")
