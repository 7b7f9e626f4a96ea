"""Offices, languages and topics: the codes the rest of the schema refers to.

Their source is the configuration (hotline.catalogue); `sync_reference` mirrors it into these
tables so that records keep referring to valid codes and reports can join on them.
"""
from __future__ import annotations

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from hotline.catalogue import Catalogue
from hotline.models.base import Base


class Office(Base):
    __tablename__ = "offices"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class Language(Base):
    __tablename__ = "languages"
    code: Mapped[str] = mapped_column(String(8), primary_key=True)


class Topic(Base):
    __tablename__ = "topics"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)


def sync_reference(session: Session, catalogue: Catalogue) -> None:
    """Add the configured offices, languages and topics that the database lacks (never deletes)."""
    offices = {o.code: o for o in session.scalars(select(Office))}
    for office in catalogue.offices:
        if office.code in offices:
            offices[office.code].name = office.name
        else:
            session.add(Office(code=office.code, name=office.name))
    known_languages = set(session.scalars(select(Language.code)))
    session.add_all(Language(code=lang.code) for lang in catalogue.languages
                    if lang.code not in known_languages)
    known_topics = set(session.scalars(select(Topic.code)))
    session.add_all(Topic(code=topic.code) for topic in catalogue.topics if topic.code not in known_topics)
    session.commit()
