"""The desk's forms (Flask-WTF: each carries the CSRF token): the wrap-up that completes a
consultation record, and the record of a consultation given in person or online. Their choices
come from the catalogue (languages, topics, offices, and the [wrap_up] lists)."""
from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from dashboards import desk
from dashboards.web.i18n import term
from hotline.catalogue import Catalogue
from hotline.models import ConsultationRecord

NOTES_LENGTH = 20000  # as the API's write-up
REFERRAL_OTHER_LENGTH = ConsultationRecord.__table__.c.referral_other.type.length
NONE = [("", "—")]


def _options(pairs) -> list[SelectChoice]:
    """(code, label) pairs as WTForms' choices."""
    return [SelectChoice(code, label) for code, label in pairs]


def _term(catalogue: Catalogue, table: str, code: str) -> str:
    """A language's or topic's name in the page's language, capitalised for a list: "Residence and
    documents"."""
    name = term(catalogue, table, code)
    return name[:1].upper() + name[1:]


class WrapUpForm(FlaskForm):
    topic = SelectField(lazy_gettext("Topic"), validators=[DataRequired()])
    sub_topic = SelectField(lazy_gettext("Sub-topic"), validate_choice=False, default="")
    disposition = SelectField(lazy_gettext("Outcome"), validators=[DataRequired()])
    referral = SelectField(lazy_gettext("Referred to"), default="")  # optional: "" when not sent
    referral_other = StringField(lazy_gettext("Referral, in your words"),
                                 validators=[Length(max=REFERRAL_OTHER_LENGTH)])
    notes = TextAreaField(lazy_gettext("Notes"), validators=[Length(max=NOTES_LENGTH)])
    nationality = StringField(lazy_gettext("Nationality (ISO country code, e.g. SY)"), validators=[
        Optional(), Regexp(r"^[A-Za-z]{2}$",
                           message=lazy_gettext("Use a two-letter country code, e.g. SY, AF or UA."))])
    gender = SelectField(lazy_gettext("Gender"), default="")
    urgent = BooleanField(lazy_gettext("Urgent: a supervisor should follow this up"))

    def __init__(self, catalogue: Catalogue, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        lists = catalogue.wrap_up
        self.sub_topic_groups = lists.sub_topics
        self.topic.choices = _options((topic.code, _term(catalogue, "topics", topic.code))
                                      for topic in catalogue.topics)
        self.topic_labels = {choice.value: choice.label for choice in self.topic.choices}
        self.disposition.choices = _options(NONE + list(lists.dispositions))
        self.referral.choices = _options(NONE + list(lists.referrals))
        self.gender.choices = _options(NONE + list(lists.genders))

    def validate_sub_topic(self, field) -> None:
        if field.data and field.data not in dict(self.sub_topic_groups.get(self.topic.data, ())):
            raise ValidationError(lazy_gettext("Choose a sub-topic of the topic chosen."))

    def fill_from(self, record: ConsultationRecord) -> None:
        """Show what `record` holds already (on a GET)."""
        self.topic.data, self.sub_topic.data = record.topic_code, record.sub_topic or ""
        self.disposition.data, self.referral.data = record.disposition or "", record.referral or ""
        self.referral_other.data, self.notes.data = record.referral_other, record.notes
        self.nationality.data, self.gender.data = record.nationality, record.gender or ""
        self.urgent.data = record.urgent_followup

    def wrap_up(self) -> desk.WrapUp:
        """The validated form as a desk.WrapUp (blank fields: None)."""
        return desk.WrapUp(
            topic=self.topic.data, sub_topic=self.sub_topic.data or None, disposition=self.disposition.data,
            referral=self.referral.data or None,
            referral_other=(self.referral_other.data or "").strip() or None,
            notes=self.notes.data or None, nationality=(self.nationality.data or "").upper() or None,
            gender=self.gender.data or None, urgent=bool(self.urgent.data))


class OtherChannelForm(WrapUpForm):
    channel = SelectField(lazy_gettext("How it came"), choices=_options(
        [("in_person", lazy_gettext("In person")), ("online", lazy_gettext("Online"))]))
    language = SelectField(lazy_gettext("Language"), validators=[DataRequired()])
    office = SelectField(lazy_gettext("Office"), validators=[DataRequired()])
    minutes = IntegerField(lazy_gettext("How long (minutes)"),
                           validators=[Optional(), NumberRange(min=1, max=600)])

    def __init__(self, catalogue: Catalogue, *args, **kwargs) -> None:
        super().__init__(catalogue, *args, **kwargs)
        self.language.choices = _options((lang.code, _term(catalogue, "languages", lang.code))
                                         for lang in catalogue.languages)
        self.office.choices = _options((office.code, office.name) for office in catalogue.offices)
