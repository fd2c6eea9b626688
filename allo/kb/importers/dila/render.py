"""A parsed DILA document -> HTML with the State design system (DSFR), and -> plain text.

Pure functions: the caller says how to link another publication (`link(id, dila_type)` returns a
URL or None) and, optionally, the caller's situation (`answers`: variable -> True/False, from the
fiche's questionnaire or a guided search). Without answers, every conditional passage is shown
with its condition (« Si : vous touchez le RSA »); with answers, passages whose condition is false
are left out and the others keep their label.

Every string from the document is escaped here; the HTML holds no markup of DILA's. Links to
other sites open in a new window and say so (RGAA).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date

from .document import BOX_TITLES

Link = Callable[[str, str], "str | None"]
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
SERVICE_LABELS = {"Formulaire": "Formulaire", "Téléservice": "Service en ligne", "Simulateur": "Simulateur",
                  "Modèle de document": "Modèle de document", "Outil de recherche": "Outil de recherche",
                  "Téléservice personnalisé sur SP": "Service en ligne", "Notice": "Notice"}
SIGLE_KINDS = {"Sigle", "Acronyme"}
_NOT_TEXT_KEYS = {"t", "id", "k", "href", "url", "src", "lang", "display", "type", "format", "weight", "group",
                  "audience", "date", "v", "defines", "set", "cond", "cs", "rs", "h", "lvl", "ordered", "important",
                  "franceconnect", "sources", "unknown"}


def esc(text: str) -> str:
    return html.escape(text or "", quote=True)


def french_date(value: str | date | None) -> str:
    """2024-01-01 -> « 1er janvier 2024 »."""
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


# -- conditions -------------------------------------------------------------------------------------

def evaluate(cond, answers: dict[str, bool] | None) -> bool | None:
    """True / False / None (not known from the answers) for a condition."""
    if not cond or not answers:
        return None
    op = cond[0]
    if op in ("vrai", "faux", "indefini"):
        value = answers.get(cond[1])
        if op == "indefini":
            return None if value is None else False
        if value is None:
            return None
        return value if op == "vrai" else not value
    results = [evaluate(c, answers) for c in cond[1:]]
    if op == "ou":
        return True if True in results else (None if None in results else False)
    return False if False in results else (None if None in results else True)


def condition_label(cond, labels: dict[str, list[str]]) -> str:
    """The situation a condition stands for, in words (the answers' labels that select it)."""
    op = cond[0]
    if op in ("vrai", "faux", "indefini"):
        when_true, when_false = (labels.get(cond[1]) or ["", ""])[:2]
        if op == "vrai":
            return when_true or "une situation précise (voir le questionnaire de la fiche)"
        if op == "faux":
            return when_false or (f"pas dans la situation : {when_true}" if when_true else
                                  "hors d'une situation précise")
        return f"situation non précisée ({when_true})" if when_true else "situation non précisée"
    parts = [condition_label(c, labels) for c in cond[1:]]
    return (" ou " if op == "ou" else " et ").join(parts)


def answers_from_choices(document: dict, choices: dict[int, int]) -> dict[str, bool]:
    """{question index: choice index} of the fiche's questionnaire -> variable assignments."""
    answers: dict[str, bool] = {}
    questions = (document.get("questionnaire") or {}).get("questions") or []
    for qi, ci in sorted(choices.items()):
        if 0 <= qi < len(questions) and 0 <= ci < len(questions[qi]["choices"]):
            answers.update(questions[qi]["choices"][ci]["set"])
    return answers


def guided_step(document: dict, path: list[int]) -> tuple[list[dict], list[dict], dict[str, bool]]:
    """Walk a guided search: (the branches chosen, the branches to choose from now, the answers set)."""
    guided = document.get("guided") or {}
    options = guided.get("items") or (document.get("questionnaire") or {}).get("branches") or []
    chosen: list[dict] = []
    answers: dict[str, bool] = {}
    for index in path:
        if not 0 <= index < len(options):
            break
        node = options[index]
        chosen.append(node)
        answers.update(node.get("set") or {})
        options = node.get("children") or []
    return chosen, options, answers


# -- rendering ----------------------------------------------------------------------------------------

class Renderer:
    def __init__(self, document: dict, link: Link, labels: dict[str, list[str]] | None = None,
                 answers: dict[str, bool] | None = None, prefix: str = "dila"):
        self.doc, self.link, self.answers, self.prefix = document, link, answers or None, prefix
        self.labels = {**(document.get("defines") or {}), **(labels or {})}
        self.glossary = {g["id"]: g for g in document.get("glossary") or []}
        self.counter = 0

    def uid(self, kind: str) -> str:
        self.counter += 1
        return f"{self.prefix}-{kind}-{self.counter}"

    # -- inline

    def runs(self, runs: list) -> str:
        out = []
        for run in runs or []:
            if isinstance(run, str):
                out.append(esc(run))
                continue
            t, inner = run.get("t"), self.runs(run.get("c", []))
            if t == "b" or t == "val":
                out.append(f"<strong>{inner}</strong>")
            elif t in ("sup", "sub"):
                out.append(f"<{t}>{inner}</{t}>")
            elif t == "expr":
                out.append(f"<em>{inner}</em>")
            elif t == "q":
                out.append(f"« {inner} »")
            elif t == "var":
                out.append(f"<em>[{inner}]</em>")
            elif t == "lang":
                out.append(f'<span lang="{esc(run.get("lang", ""))}">{inner}</span>')
            elif t == "a":
                out.append(self.external(run.get("href", ""), inner))
            elif t == "def":
                entry = self.glossary.get(run.get("id", ""))
                out.append(f'<a class="allo-def" href="#{self.prefix}-def-{esc(run["id"])}">{inner}</a>' if entry
                           else inner)
            elif t == "ln":
                out.append(self.internal(run.get("id", ""), run.get("k", ""), inner))
            else:
                out.append(inner)
        return "".join(out)

    def external(self, url: str, inner: str) -> str:
        if not url.startswith(("http://", "https://")):
            return inner
        title = html.unescape(_strip_tags(inner)) or url
        return (f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer" '
                f'title="{esc(title)} — nouvelle fenêtre">{inner}</a>')

    def internal(self, target: str, kind: str, inner: str) -> str:
        if kind in SIGLE_KINDS and target in self.glossary:
            meaning = _blocks_text(self.glossary[target].get("c", []))
            return f'<abbr title="{esc(meaning)}">{inner}</abbr>'
        url = self.link(target, kind) if target else None
        return self.anchor(url, inner) if url else inner

    def anchor(self, url: str, inner: str) -> str:
        """A link the `link` function resolved: a page of ours, or a resource on another site (a form,
        an online service), which opens in a new window like every other external link."""
        if url.startswith(("http://", "https://")):
            return self.external(url, inner)
        return f'<a href="{esc(url)}">{inner}</a>'

    # -- blocks

    def blocks(self, blocks: list, level: int = 2) -> str:
        return "".join(self.block(b, level) for b in blocks or [])

    def block(self, b: dict, level: int) -> str:
        cond = b.get("cond")
        if cond is not None and evaluate(cond, self.answers) is False:
            return ""
        body = self._block(b, level)
        if cond is not None and body:
            return (f'<div class="allo-cond"><p class="allo-cond__label fr-text--sm fr-mb-1v">'
                    f'<span class="fr-badge fr-badge--sm fr-badge--info fr-badge--no-icon">Si</span> '
                    f'{esc(condition_label(cond, self.labels))}</p>{body}</div>')
        return body

    def _block(self, b: dict, level: int) -> str:
        t = b.get("t")
        if t == "p":
            return f"<p>{self.runs(b['c'])}</p>"
        if t == "h":
            lvl = min(level + 1, 6)
            return f'<h{lvl} class="allo-intertitle">{self.runs(b["c"])}</h{lvl}>'
        if t == "list":
            tag = "ol" if b.get("ordered") else "ul"
            items = []
            for item in b.get("items", []):
                if item.get("cond") is not None and evaluate(item["cond"], self.answers) is False:
                    continue
                label = ""
                if item.get("cond") is not None:
                    label = (f'<span class="fr-badge fr-badge--sm fr-badge--info fr-badge--no-icon">Si</span> '
                             f'<span class="fr-text--sm">{esc(condition_label(item["cond"], self.labels))}</span> ')
                items.append(f"<li>{label}{_unwrap_single_p(self.blocks(item.get('c', []), level))}</li>")
            return f"<{tag}>{''.join(items)}</{tag}>" if items else ""
        if t == "table":
            return self.table(b, level)
        if t == "box":
            return self.box(b, level)
        if t == "sec":
            lvl = min(level if b.get("lvl") == 2 else level + 1, 6)
            alt = f'<p class="fr-text--sm fr-mb-1w"><em>{self.runs(b["alt"])}</em></p>' if b.get("alt") else ""
            return (f'<section class="allo-chapter"><h{lvl}>{self.runs(b.get("title", []))}</h{lvl}>{alt}'
                    f"{self.blocks(b.get('c', []), lvl)}</section>")
        if t == "more":
            return self.accordions([{"title": b.get("title") or ["Complément"], "c": b.get("c", [])}], level)
        if t in ("cases", "sits"):
            return self.accordions(b.get("items", []), level)
        if t == "cond":
            return self.blocks(b.get("c", []), level)
        if t == "svc":
            return f'<ul class="allo-services">{self.service(b, level)}</ul>'
        if t == "contact":
            return self.contact(b, level)
        if t == "img":
            return self.image(b, level)
        if t == "illus":
            return self.blocks(b.get("c", []), level) + (self.image(b["img"], level) if b.get("img") else "")
        if t == "video":
            link = self.external(b.get("url", ""), f"Voir la vidéo : {esc(b.get('title') or 'vidéo')}")
            credits = _credits(self.blocks(b.get("credits", []), level))
            source = f'<p class="fr-text--xs">Source : {esc(b["source"])}</p>' if b.get("source") else ""
            return f'<div class="allo-media"><p>{link}</p>{self.blocks(b.get("c", []), level)}{credits}{source}</div>'
        if t == "defn":
            return (f'<div class="fr-highlight"><p><strong>{esc(b.get("title", ""))}</strong></p>'
                    f"{self.blocks(b.get('c', []), level)}</div>")
        return ""

    def accordions(self, items: list, level: int) -> str:
        shown = [i for i in items if i.get("cond") is None or evaluate(i["cond"], self.answers) is not False]
        if not shown:
            return ""
        # With answers, the one case that matches them opens by itself.
        matching = [i for i in shown if i.get("cond") is not None and evaluate(i["cond"], self.answers) is True]
        lvl = min(level + 1, 6)
        parts = ['<div class="fr-accordions-group">']
        for item in shown:
            uid = self.uid("acc")
            expanded = "true" if (len(shown) == 1 or (len(matching) == 1 and item is matching[0])) else "false"
            label = ""
            if item.get("cond") is not None:
                label = (f'<p class="allo-cond__label fr-text--sm"><span class="fr-badge fr-badge--sm fr-badge--info '
                         f'fr-badge--no-icon">Si</span> {esc(condition_label(item["cond"], self.labels))}</p>')
            help_html = (f'<div class="fr-text--sm allo-help">{self.blocks(item["help"], lvl)}</div>'
                         if item.get("help") else "")
            parts.append(
                f'<section class="fr-accordion"><h{lvl} class="fr-accordion__title">'
                f'<button type="button" class="fr-accordion__btn" aria-expanded="{expanded}" aria-controls="{uid}">'
                f'{self.runs(item.get("title", []))}</button></h{lvl}>'
                f'<div class="fr-collapse" id="{uid}">{label}{help_html}{self.blocks(item.get("c", []), lvl)}</div>'
                f"</section>")
        parts.append("</div>")
        return "".join(parts)

    def table(self, b: dict, level: int) -> str:
        rows = b.get("rows", [])
        head_count = 0
        for row in rows:
            if not row.get("h"):
                break
            head_count += 1
        caption = self.runs(b.get("title", [])) or "Tableau"
        summary = (f'<div class="fr-text--sm allo-table-summary">{self.blocks(b["summary"], level)}</div>'
                   if b.get("summary") else "")

        def row_html(row: dict, header: bool) -> str:
            cells = []
            for cell in row.get("cells", []):
                tag = "th" if header else "td"
                attrs = ' scope="col"' if header else ""
                if cell.get("cs", 1) > 1:
                    attrs += f' colspan="{cell["cs"]}"'
                if cell.get("rs", 1) > 1:
                    attrs += f' rowspan="{cell["rs"]}"'
                cells.append(f"<{tag}{attrs}>{_unwrap_single_p(self.blocks(cell.get('c', []), level))}</{tag}>")
            return f"<tr>{''.join(cells)}</tr>"

        head = "".join(row_html(r, True) for r in rows[:head_count])
        body = "".join(row_html(r, bool(r.get("h"))) for r in rows[head_count:])
        return (f'<div class="fr-table fr-table--bordered"><div class="fr-table__wrapper"><div class="fr-table__container">'
                f'<div class="fr-table__content"><table><caption>{caption}</caption>'
                f'{f"<thead>{head}</thead>" if head else ""}<tbody>{body}</tbody></table></div></div></div>'
                f"{summary}</div>")

    def box(self, b: dict, level: int) -> str:
        kind = b.get("k", "asavoir")
        title = esc(b.get("title") or BOX_TITLES.get(kind, ""))
        content = self.blocks(b.get("c", []), level)
        if kind == "attention":
            return (f'<div class="fr-alert fr-alert--warning fr-mb-3w"><p class="fr-alert__title">{title}</p>'
                    f"{content}</div>")
        if kind == "exemple":
            return f'<div class="fr-highlight allo-example"><p><strong>{title}</strong></p>{content}</div>'
        return (f'<div class="fr-callout allo-box allo-box--{esc(kind)}"><p class="fr-callout__title">{title}</p>'
                f'<div class="fr-callout__text">{content}</div></div>')

    def service(self, b: dict, level: int) -> str:
        label = SERVICE_LABELS.get(b.get("type", ""), b.get("type") or "Service")
        title = esc(b.get("title") or label)
        link = self.external(b["url"], title) if b.get("url") else title
        facts = []
        if b.get("cerfa"):
            facts.append(f"Cerfa n° {esc(b['cerfa'])}")
        if b.get("other"):
            facts.append(esc(b["other"]))
        if b.get("format") and _format(b["format"], b.get("weight", "")):
            facts.append(esc(_format(b["format"], b.get("weight", ""))))
        if b.get("franceconnect"):
            facts.append("Accessible avec FranceConnect")
        if b.get("pivot"):
            facts.append(f"Guichet : {esc(b['pivot'])}")
        if b.get("source"):
            facts.append(f"Source : {esc(b['source'])}")
        notices = "".join(f"<li>{self.notice(n)}</li>" for n in b.get("notices", []))
        annexes = "".join(self.annex(a, level) for a in b.get("annexes", []))
        facts_html = f'<p class="fr-text--sm fr-mb-1v">{" · ".join(facts)}</p>' if facts else ""
        notices_html = (f'<p class="fr-text--sm fr-mb-0">Notice :</p><ul class="fr-text--sm">{notices}</ul>'
                        if notices else "")
        annexes_html = (f'<p class="fr-text--sm fr-mb-0">À joindre :</p><ul class="fr-text--sm">{annexes}</ul>'
                        if annexes else "")
        return (f'<li class="allo-service"><p class="fr-mb-1v"><span class="fr-badge fr-badge--sm fr-badge--blue-ecume '
                f'fr-badge--no-icon">{esc(label)}</span> {link}</p>{facts_html}'
                f"{self.blocks(b.get('c', []), level)}{notices_html}{annexes_html}</li>")

    def notice(self, n: dict) -> str:
        number = f" (n° {esc(n['cerfa'])})" if n.get("cerfa") else ""
        return self.external(n.get("url", ""), esc(n.get("title") or "Notice")) + number

    def annex(self, a: dict, level: int) -> str:
        cerfa = f" — cerfa n° {esc(a['cerfa'])}" if a.get("cerfa") else ""
        notices = "".join(f'<p class="fr-text--sm">Notice : {self.notice(n)}</p>' for n in a.get("notices", []))
        return (f'<li>{self.external(a.get("url", ""), esc(a.get("title", "")))}{cerfa}'
                f'{self.blocks(a.get("c", []), level)}{notices}</li>')

    def contact(self, b: dict, level: int) -> str:
        title = esc(b.get("title") or b.get("pivot") or "Organisme compétent")
        parts = [f'<div class="allo-contact"><p class="fr-mb-1v"><strong>{title}</strong>']
        if b.get("pivot") and b.get("pivot") != b.get("title"):
            parts.append(f' <span class="fr-badge fr-badge--sm fr-badge--no-icon">{esc(b["pivot"])}</span>')
        parts.append("</p>")
        if b.get("complement"):
            parts.append(f'<p class="fr-text--sm fr-mb-1v">{esc(b["complement"])}</p>')
        parts.append(self.blocks(b.get("c", []), level))
        for url in b.get("web", []):
            parts.append(f'<p class="fr-text--sm fr-mb-1v">{self.external(url, esc(_host(url)))}</p>')
        if b.get("source"):
            parts.append(f'<p class="fr-text--xs fr-mb-1v">Source : {esc(b["source"])}</p>')
        parts.append("</div>")
        return "".join(parts)

    def image(self, b: dict, level: int) -> str:
        # The archives hold no image files: their text (title, alternative, caption, description) is
        # what DILA wrote for people who cannot see them, and it is all shown.
        title = b.get("title") or b.get("alt") or b.get("caption") or "Infographie"
        parts = [f'<figure class="fr-content-media allo-figure"><p class="allo-figure__title">'
                 f'<span class="fr-icon-image-line" aria-hidden="true"></span> <strong>{esc(title)}</strong></p>']
        if b.get("alt") and b.get("alt") != title:
            parts.append(f"<p>{esc(b['alt'])}</p>")
        parts.append(self.blocks(b.get("c", []), level))
        caption = b.get("caption") if b.get("caption") != title else ""
        credits = _strip_tags(self.blocks(b.get("credits", []), level))
        if caption or credits:
            parts.append(f'<figcaption class="fr-content-media__caption">{esc(caption or "")}'
                         f'{" — " if caption and credits else ""}{esc(html.unescape(credits))}</figcaption>')
        parts.append("</figure>")
        return "".join(parts)

    # -- the fiche's parts

    def parts(self, guided_path: list[int] | None = None, level: int = 2) -> dict[str, str]:
        """`level`: the heading level of the fiche's sections (2 on a page of its own; 3 in a panel
        whose own title is an h2), so headings never skip a level."""
        doc = self.doc
        out: dict[str, str] = {}
        sub = min(level + 1, 6)
        out["warnings"] = "".join(self.warning(w, level) for w in doc.get("warnings") or [])
        out["intro"] = self.blocks(doc.get("intro", []), level)
        out["questionnaire"] = self.questionnaire_fields()
        out["guided"] = self.guided_tree()
        out["body"] = self.blocks(doc.get("body", []), level)
        out["links"] = "".join(self.commented_link(lk) for lk in doc.get("links") or [])
        out["links"] = f'<ul class="allo-links">{out["links"]}</ul>' if out["links"] else ""
        services = "".join(self.block(s, sub) if s.get("cond") else self.service(s, sub)
                           for s in doc.get("services") or [])
        out["services"] = f'<ul class="allo-services">{services}</ul>' if services else ""
        out["contacts"] = "".join(self.block(c, sub) for c in doc.get("contacts") or [])
        out["helpers"] = "".join(self.block(c, sub) for c in doc.get("helpers") or [])
        refs = "".join(f"<li>{_unwrap_single_p(self.block(r, sub))}</li>" for r in doc.get("references") or [])
        refs += "".join(f'<li>{self.external(u, esc(_host(u)))} (texte de référence)</li>'
                        for u in doc.get("sources") or [])
        out["references"] = f"<ul>{refs}</ul>" if refs else ""
        more = "".join(f"<li>{_unwrap_single_p(self.block(m, sub))}</li>" for m in doc.get("more") or [])
        out["more"] = f"<ul>{more}</ul>" if more else ""
        out["questions"] = self.related(doc.get("questions"), "Fiche Question-réponse")
        out["howto"] = self.related(doc.get("howto"), "Fiche Comment faire si")
        out["guided_links"] = self.related(doc.get("guided_links"), "Recherche guidée")
        see = "".join(f"<li>{self.internal(s['id'], s.get('k', ''), esc(s.get('title', '')))}</li>"
                      for s in doc.get("see_also") or [])
        out["see_also"] = f"<ul>{see}</ul>" if see else ""
        glossary = []
        for g in doc.get("glossary") or []:
            refs_html = "".join(_unwrap_single_p(self.block(r, sub)) for r in g.get("refs", []))
            glossary.append(f'<dt id="{self.prefix}-def-{esc(g["id"])}"><strong>{esc(g.get("title", ""))}</strong></dt>'
                            f"<dd>{self.blocks(g.get('c', []), sub)}{refs_html}</dd>")
        out["glossary"] = f'<dl class="allo-glossary">{"".join(glossary)}</dl>' if glossary else ""
        out["targets"] = "".join(f'<li><p class="fr-tag fr-tag--sm">{esc(t)}</p></li>' for t in doc.get("targets") or [])
        out["targets"] = f'<ul class="fr-tags-group">{out["targets"]}</ul>' if out["targets"] else ""
        return out

    def warning(self, w: dict, level: int = 2) -> str:
        dated = f'<p class="fr-text--sm">Avertissement du {french_date(w["date"])}</p>' if w.get("date") else ""
        return (f'<div class="fr-alert fr-alert--warning fr-mb-3w allo-warning"><h{level} class="fr-alert__title">'
                f'{esc(w.get("title") or "Avertissement")}</h{level}>{dated}{self.blocks(w.get("c", []), level + 1)}'
                f"</div>")

    def commented_link(self, lk: dict) -> str:
        source = f" — {esc(lk['source'])}" if lk.get("source") else ""
        return (f'<li>{self.external(lk.get("url", ""), esc(lk.get("title") or lk.get("url", "")))}{source}'
                f'{self.blocks(lk.get("comment", []), 3)}</li>')

    def related(self, items: list | None, kind: str) -> str:
        lis = "".join(f"<li>{self.internal(i['id'], kind, esc(i.get('title', '')))}</li>" for i in items or [])
        return f"<ul>{lis}</ul>" if lis else ""

    def questionnaire_fields(self, chosen: dict[int, int] | None = None) -> str:
        """The questionnaire as DSFR radio groups (a form around them is the page's: GET q<i>=<j>)."""
        q = self.doc.get("questionnaire") or {}
        parts = [self.blocks(q.get("desc", []), 3), self.blocks(q.get("intro", []), 3)]
        for qi, question in enumerate(q.get("questions") or []):
            legend = self.runs(question.get("title", []))
            radios = []
            for ci, choice in enumerate(question.get("choices", [])):
                rid = f"{self.prefix}-q{qi}-c{ci}"
                checked = " checked" if chosen and chosen.get(qi) == ci else ""
                radios.append(f'<div class="fr-fieldset__element"><div class="fr-radio-group">'
                              f'<input type="radio" id="{rid}" name="q{qi}" value="{ci}"{checked}>'
                              f'<label class="fr-label" for="{rid}">{self.runs(choice.get("title", []))}'
                              f'<span class="fr-hint-text">{esc(choice.get("label", ""))}</span></label></div></div>')
            help_html = (f'<div class="fr-fieldset__element fr-text--sm">{self.blocks(question["help"], 3)}</div>'
                         if question.get("help") else "")
            parts.append(f'<fieldset class="fr-fieldset" aria-labelledby="{self.prefix}-q{qi}-legend">'
                         f'<legend class="fr-fieldset__legend fr-text--regular" id="{self.prefix}-q{qi}-legend">'
                         f"{legend}</legend>{help_html}{''.join(radios)}</fieldset>")
        if q.get("branches"):
            parts.append(self.tree(q["branches"], 3))
        return "".join(parts)

    def guided_tree(self) -> str:
        """Every path of a guided search at once, as nested lists (the walk is the page's, see guided_step)."""
        guided = self.doc.get("guided")
        if not guided:
            return ""
        intro = f"<p>{self.runs(guided['intro'])}</p>" if guided.get("intro") else ""
        return intro + self.tree(guided.get("items", []), 3)

    def tree(self, nodes: list, level: int, answers: dict[str, bool] | None = None) -> str:
        items = []
        for node in nodes:
            path_answers = {**(answers or {}), **(node.get("set") or {})}
            title = self.runs(node.get("title", []))
            target = node.get("target")
            if target:
                url = self.link(target["id"], target.get("k", ""))
                if url and path_answers and not url.startswith(("http://", "https://")):  # ours only
                    url += ("&" if "?" in url else "?") + situation_query(path_answers)
                label = self.runs(target.get("c", [])) if target.get("c") else ""
                title = self.anchor(url, title) if url else title
                if label:
                    title += f' <span class="fr-text--sm">({label})</span>'
            help_html = (f'<div class="fr-text--sm allo-help">{self.blocks(node["help"], level)}</div>'
                         if node.get("help") else "")
            ask = f'<p class="fr-text--sm fr-mb-0"><em>{self.runs(node["ask"])}</em></p>' if node.get("ask") else ""
            children = self.tree(node["children"], level, path_answers) if node.get("children") else ""
            items.append(f"<li>{title}{help_html}{ask}{children}</li>")
        return f'<ul class="allo-tree">{"".join(items)}</ul>' if items else ""


def situation_query(answers: dict[str, bool]) -> str:
    """Answers carried to another fiche: ?vrai=T1,T2&faux=T3 (the variables DILA's pages share)."""
    yes = ",".join(sorted(v for v, value in answers.items() if value))
    no = ",".join(sorted(v for v, value in answers.items() if not value))
    return "&".join(p for p in (f"vrai={yes}" if yes else "", f"faux={no}" if no else "") if p)


def answers_from_query(vrai: str, faux: str) -> dict[str, bool]:
    answers = {v: True for v in (vrai or "").split(",") if v.strip()}
    answers.update({v: False for v in (faux or "").split(",") if v.strip()})
    return {k.strip()[:20]: v for k, v in list(answers.items())[:50]}


SECTION_TITLES = (
    ("links", "Liens utiles"), ("services", "Services en ligne et formulaires"), ("contacts", "Où s'adresser ?"),
    ("helpers", "Qui peut m'aider ?"), ("references", "Textes de référence"), ("more", "Pour en savoir plus"),
    ("questions", "Questions ? Réponses !"), ("howto", "Comment faire si…"), ("guided_links", "Recherches guidées"),
    ("see_also", "Voir aussi"), ("glossary", "Définitions et sigles"),
)


def render_html(document: dict, link: Link, *, labels: dict | None = None, answers: dict | None = None,
                prefix: str = "dila") -> str:
    """The whole fiche, in reading order: warnings first, then the text, then its resources."""
    r = Renderer(document, link, labels, answers, prefix)
    parts = r.parts()
    out = [parts["warnings"], parts["targets"], parts["intro"]]
    if parts["questionnaire"]:
        out.append(f'<section class="allo-questionnaire"><h2>Votre situation</h2>{parts["questionnaire"]}</section>')
    if parts["guided"]:
        out.append(f'<section class="allo-guided"><h2>Quelle est votre situation ?</h2>{parts["guided"]}</section>')
    out.append(parts["body"])
    for key, title in SECTION_TITLES:
        if parts[key]:
            out.append(f'<section class="allo-part allo-part--{key}"><h2>{title}</h2>{parts[key]}</section>')
    return "".join(out)


def render_text(document: dict) -> str:
    """All the text of a document, in order, as plain text (search, snippets, coverage)."""
    out: list[str] = []
    _collect(document, out)
    return "\n".join(s for s in out if s.strip())


def _collect(value, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        if value and all(isinstance(v, str) or (isinstance(v, dict) and v.get("t") in _INLINE) for v in value):
            out.append(_runs_plain(value))
            return
        for v in value:
            _collect(v, out)
    elif isinstance(value, dict):
        for key, v in value.items():
            if key in _NOT_TEXT_KEYS:
                continue
            if key == "cerfa" and v:
                out.append(f"cerfa {v}")
                continue
            _collect(v, out)


_INLINE = {"b", "sup", "sub", "val", "expr", "q", "date", "var", "lang", "a", "ln", "def"}


def _runs_plain(runs: list) -> str:
    return "".join(r if isinstance(r, str) else _runs_plain(r.get("c", [])) for r in runs)


def _blocks_text(blocks: list) -> str:
    out: list[str] = []
    _collect(blocks, out)
    return " ".join(s.strip() for s in out if s.strip())


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", text or "")


def _unwrap_single_p(fragment: str) -> str:
    """A list item or cell of one paragraph reads better without the paragraph's margins."""
    if fragment.startswith("<p>") and fragment.endswith("</p>") and fragment.count("<p>") == 1:
        return fragment[3:-4]
    return fragment


def _credits(fragment: str) -> str:
    return f'<p class="fr-text--xs">Crédits : {_unwrap_single_p(fragment)}</p>' if fragment else ""


def _format(fmt: str, weight: str) -> str:
    kind = {"application/pdf": "PDF", "text/html": "page web"}.get(fmt, fmt.split("/")[-1].upper())
    return f"{kind} {weight}".strip() if kind != "page web" else ""


def _host(url: str) -> str:
    import re

    return re.sub(r"^https?://(www\.)?", "", url).split("/")[0]
