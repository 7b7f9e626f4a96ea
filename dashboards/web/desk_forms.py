"""The desk's forms (Flask-WTF: each carries the CSRF token): the wrap-up that completes a
consultation record, and the record of a consultation given in person or online. Their choices
come from the catalogue (languages, topics, offices, and the [wrap_up] lists)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from dashboards import desk
from hotline.catalogue import Catalogue
from hotline.models import ConsultationRecord

NOTES_LENGTH = 20000  # as the API's write-up
REFERRAL_OTHER_LENGTH = ConsultationRecord.__table__.c.referral_other.type.length
NONE = [("", "—")]


def _options(pairs) -> list[SelectChoice]:
    """(code, label) pairs as WTForms' choices."""
    return [SelectChoice(code, label) for code, label in pairs]


def _term(catalogue: Catalogue, table: str, code: str) -> str:
    """A language's or topic's English name, capitalised for a list: "Residence and documents"."""
    name = catalogue.term("en", table, code)
    return name[:1].upper() + name[1:]


class WrapUpForm(FlaskForm):
    topic = SelectField("Topic", validators=[DataRequired()])
    sub_topic = SelectField("Sub-topic", validate_choice=False, default="")
    disposition = SelectField("Outcome", validators=[DataRequired()])
    referral = SelectField("Referred to", default="")  # optional: "" when not sent
    referral_other = StringField("Referral, in your words", validators=[Length(max=REFERRAL_OTHER_LENGTH)])
    notes = TextAreaField("Notes", validators=[Length(max=NOTES_LENGTH)])
    nationality = StringField("Nationality (ISO country code, e.g. SY)", validators=[
        Optional(), Regexp(r"^[A-Za-z]{2}$", message="Use a two-letter country code, e.g. SY, AF or UA.")])
    gender = SelectField("Gender", default="")
    urgent = BooleanField("Urgent: a supervisor should follow this up")

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
            raise ValidationError("Choose a sub-topic of the topic chosen.")

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
    channel = SelectField("How it came", choices=_options([("in_person", "In person"), ("online", "Online")]))
    language = SelectField("Language", validators=[DataRequired()])
    office = SelectField("Office", validators=[DataRequired()])
    minutes = IntegerField("How long (minutes)", validators=[Optional(), NumberRange(min=1, max=600)])

    def __init__(self, catalogue: Catalogue, *args, **kwargs) -> None:
        super().__init__(catalogue, *args, **kwargs)
        self.language.choices = _options((lang.code, _term(catalogue, "languages", lang.code))
                                         for lang in catalogue.languages)
        self.office.choices = _options((office.code, office.name) for office in catalogue.offices)
