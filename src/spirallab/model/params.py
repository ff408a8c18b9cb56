"""Model parameters: every number the mechanisms use, with its default, unit, range and grounding.

Seeds are cited by file number and section: ``001 Phase 3`` is the "Phase 3: tactical concessions"
section of Risse & Sikkink (1999), the introduction in ``../shared/seeds/001_*``. A grounding of
"assumption" means the seeds give the direction of an effect but no size; those values were set so
that the patterns P1-P12 documented in docs/model.md appear, and they are the first candidates for
calibration against the coded real data.

Rates are per year; the engine turns a rate ``r`` into a per-step probability ``1 - exp(-r * dt)``
or a per-step change ``r * dt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model


@dataclass(frozen=True)
class Parameter:
    """One model parameter and why it has the value it has."""

    name: str
    default: float
    unit: str
    lo: float
    hi: float
    mechanism: str
    description: str
    grounding: str


P = Parameter

PARAMETERS: tuple[Parameter, ...] = (
    # --- world time ------------------------------------------------------------------------
    P("norm_density_floor", 0.08, "share (0-1)", 0.0, 1.0, "world_time",
      "Density of international human-rights norms, institutions and networks before 1948.",
      "001 World time: before 1973 treaties not in force and networks weak; assumption for size"),
    P("attention_capacity", 8.0, "country-campaigns", 0.1, 200.0, "network",
      "Full-intensity campaigns the transnational network can run at once when norm density is 1;"
      " scaled by norm density.",
      "001 Phase 1: many oppressive states never reach the network's agenda; assumption for size"),
    # --- boomerang: information and agenda (hypothesis 1) -----------------------------------
    P("information_rate", 1.0, "per year", 0.0, 5.0, "boomerang",
      "Growth of the network's information about a country per unit of linkage.",
      "001 Phase 1 and the boomerang figure: information flows through domestic-transnational links"),
    P("information_choke", 0.75, "share (0-1)", 0.0, 1.0, "boomerang",
      "How far severe political repression chokes the flow of information (at repression 1).",
      "001 Phase 1: the degree of repression determines whether networks can acquire information"),
    P("information_decay", 0.05, "per year", 0.0, 2.0, "boomerang",
      "Rate at which old information loses news value.", "assumption"),
    P("monitoring_rate", 0.12, "per year", 0.0, 2.0, "world_time",
      "Information gathered without domestic links (IOs, press, exiles), times norm density.",
      "001 World time: institutions and networks that monitor compliance; assumption for size"),
    P("agenda_threshold", 0.35, "information (0-1)", 0.05, 1.0, "agenda_setting",
      "Information at which the network puts the country on its agenda.",
      "001 Phase 1, hypothesis 1"),
    P("massacre_rate", 0.08, "per year at full repression", 0.0, 1.0, "egregious_events",
      "Yearly hazard of an egregious event (a massacre) at full political repression.",
      "001 Phase 2: activation often follows a particularly awesome violation; assumption for size"),
    P("massacre_information", 0.35, "information (0-1)", 0.0, 1.0, "egregious_events",
      "Information jump caused by a massacre.", "001 Phase 2; assumption for size"),
    # --- network campaign and partners (pressure from above) ---------------------------------
    P("attention_rate", 0.8, "per year", 0.01, 10.0, "network",
      "Speed at which network attention follows its allocation.", "assumption"),
    P("endemic_salience", 0.35, "share (0-1)", 0.0, 1.0, "attention_fading",
      "Weight of endemic, low-level abuse in drawing network attention, relative to gross"
      " political repression (weight 1).",
      "001 Phase 5 and the second critical moment: endemic abuse erodes attention"),
    P("shaming_gain_concessions", 1.6, "multiplier", 1.0, 5.0, "network",
      "Campaign intensity per unit of attention once the state argues back (phase 3).",
      "000 Tactical concessions: time to use shaming; 001 Phase 3: shaming becomes effective"),
    P("lobbying_efficacy", 0.9, "share (0-1)", 0.0, 1.0, "boomerang",
      "How much network attention moves partners to press, at full norm density.",
      "001 Phase 2: networks lobby Western states, reminding them of their identity"),
    P("pressure_rate", 0.7, "per year", 0.01, 10.0, "boomerang",
      "Speed at which partners' pressure follows its target.", "assumption"),
    P("treaty_monitoring", 0.2, "pressure (0-1)", 0.0, 1.0, "treaty_leverage",
      "Standing pressure from above from treaty bodies once the optional protocols are ratified"
      " (individual complaints, OPCAT visits).",
      "001 World time: institutions to oversee compliance; 001 Phase 4 indicator 3"),
    P("donor_coordination", 0.5, "share (0-1)", 0.0, 2.0, "boomerang",
      "Extra pressure from above when donors coordinate late in tactical concessions.",
      "001 Phase 3: donors coordinate aid and make it contingent on improvements"),
    # --- domestic society -------------------------------------------------------------------
    P("mobilisation_rate", 0.35, "per year", 0.0, 5.0, "society",
      "Growth rate of the domestic movement at full open space and no fear.",
      "001 Phase 3: concessions let the opposition gain courage and space"),
    P("closed_space", 0.25, "share (0-1)", 0.0, 1.0, "society",
      "Political space for organising under repression and denial, relative to phase 3.",
      "000 Repression: domestic activism too dangerous or ineffectual"),
    P("echo_gain", 1.5, "multiplier", 0.0, 10.0, "boomerang",
      "How much the international echo (attention x linkage) amplifies domestic mobilisation.",
      "001 boomerang: contacts amplify demands and echo them back into the domestic arena"),
    P("repression_toll", 0.3, "per year", 0.0, 5.0, "society",
      "Rate at which effective repression erodes the movement.",
      "001 Phase 2: governments may kill off or buy off the opposition"),
    P("protection_strength", 0.6, "share (0-1)", 0.0, 1.0, "boomerang",
      "Share of repression against activists deflected by international attention and links.",
      "001 purpose 2: networks partially protect domestic groups; 002 visibility as protection"),
    P("fear_rate", 0.5, "per year", 0.0, 5.0, "society",
      "Speed at which fear follows the repression activists actually face.",
      "001 Phase 3: fear paralyses; people start losing their fears"),
    P("courage", 0.5, "share (0-1)", 0.0, 1.0, "society",
      "Share of fear shed once the government concedes (activists emboldened by success).",
      "000 Tactical concessions: activists emboldened and protected by international links"),
    P("linkage_rate", 0.25, "per year", 0.0, 5.0, "boomerang",
      "Growth of links to the transnational network, per unit of attention and mobilisation.",
      "001 Phase 3: activists maintain links to transnational networks"),
    P("linkage_erosion", 0.15, "per year", 0.0, 5.0, "boomerang",
      "Erosion of links under political repression.", "001 Phase 1; assumption for size"),
    P("leader_growth", 0.6, "leaders per year", 0.0, 10.0, "decapitation",
      "Growth in the number of key leaders as the movement mobilises.",
      "001 Phase 3: at first the movement depends on a handful of leaders"),
    P("leader_half", 4.0, "leaders", 0.1, 100.0, "decapitation",
      "Number of key leaders at which a decapitating crackdown does half its maximum damage.",
      "assumption"),
    # --- government: denial (hypothesis 2) ---------------------------------------------------
    P("rally_strength", 0.25, "legitimacy (0-1)", 0.0, 1.0, "denial",
      "Legitimacy gained from nationalist backlash against foreign criticism.",
      "001 Phase 2: the first boomerang throw often solidifies domestic support"),
    P("rally_decay", 0.25, "per year", 0.0, 5.0, "denial",
      "Rate at which the rally effect wears off.",
      "001 Phase 3: sustained concern lets the rally effect wear off"),
    P("concession_rate", 1.2, "per year", 0.0, 10.0, "concessions",
      "Hazard of tactical concessions at full leverage and mobilised network.",
      "001 hypothesis 2; assumption for size"),
    P("material_weight", 0.4, "share (0-1)", 0.0, 1.0, "vulnerability",
      "Weight of material vulnerability (aid, trade) in overall vulnerability.",
      "001 Phase 2: aid recipients more vulnerable"),
    P("social_weight", 0.6, "share (0-1)", 0.0, 1.0, "vulnerability",
      "Weight of social vulnerability (wish to belong to the liberal community).",
      "001 Conclusions: most sensitive are states that care about their image"),
    P("insurgency_drag", 0.75, "share (0-1)", 0.0, 1.0, "insurgency_threat",
      "Reduction of the concession hazard while a significant armed insurgency is active.",
      "001 Phase 2: an insurgency can dramatically extend denial"),
    P("world_time_speedup", 2.5, "multiplier", 0.0, 10.0, "world_time",
      "Extra speed of leaving denial at full norm density (1 + this x density).",
      "001 World time: after the cascade, states less likely to deny at length"),
    P("denial_repression", 0.15, "repression (0-1)", 0.0, 1.0, "denial",
      "Extra political repression a denying state aims at a growing movement.",
      "001 Phase 2: kill off or buy off the opposition"),
    P("skip_denial_rate", 0.35, "per year", 0.0, 5.0, "denial",
      "Hazard of concessions straight from repression, used only when the denial"
      " mechanism is switched off.", "assumption (ablation only)"),
    # --- tactical concessions ----------------------------------------------------------------
    P("cosmetic_relief", 0.3, "share (0-1)", 0.0, 1.0, "concessions",
      "Share of political repression lifted by the first cosmetic concession.",
      "001 Phase 3: releasing prisoners, permissiveness about protest"),
    P("entrapment_rate", 0.45, "per year", 0.0, 5.0, "entrapment",
      "Growth of argumentative entrapment per unit of shaming while arguing.",
      "001 Phase 3: governments become entrapped in their own rhetoric"),
    P("argument_threshold", 0.35, "entrapment (0-1)", 0.0, 1.0, "entrapment",
      "Entrapment at which rhetorical concession turns into real argumentation.",
      "001 Phase 3: rhetorical action gives way to arguing"),
    P("crackdown_rate", 0.30, "per year", 0.0, 5.0, "decapitation",
      "Hazard of a crackdown on a threatening movement while conceding.",
      "001 Phase 3: most precarious phase; assumption for size"),
    P("crackdown_severity", 0.75, "share (0-1)", 0.0, 1.0, "decapitation",
      "Maximum share of mobilisation destroyed by a decapitating crackdown.",
      "001 Phase 3: arresting or killing leaders decapitates and paralyses the movement"),
    P("crackdown_legitimacy_cost", 0.2, "legitimacy (0-1)", 0.0, 1.0, "decapitation",
      "Legitimacy lost in a crackdown.", "001 Phase 3: costly in domestic legitimacy"),
    P("crackdown_information", 0.25, "information (0-1)", 0.0, 1.0, "decapitation",
      "Information and attention gained by the network from a crackdown.",
      "001 Phase 3: repression validates international criticism"),
    P("backslide_rate", 0.5, "per year", 0.0, 5.0, "backsliding",
      "Hazard of returning to repression from concessions when pressure is absent.",
      "000: retreat from concessions is the most likely setback; 001 critical moments"),
    P("pressure_hold", 0.7, "pressure (0-1)", 0.01, 1.0, "backsliding",
      "Combined pressure at and above which a conceding state does not retreat.",
      "001 critical moments: return to oppression when international pressures decrease"),
    # --- hypothesis 3 ------------------------------------------------------------------------
    P("prescriptive_rate", 0.8, "per year", 0.0, 10.0, "prescriptive_status",
      "Hazard of prescriptive status at full mobilisation, linkage and entrapment.",
      "001 hypothesis 3"),
    P("mobilisation_threshold", 0.35, "mobilisation (0-1)", 0.0, 1.0, "prescriptive_status",
      "Mobilisation around which the opposition counts as fully mobilised (logistic midpoint).",
      "001 Phase 3: a fully mobilised opposition leaves rulers few choices"),
    P("regime_change_legitimacy", 0.75, "legitimacy (0-1)", 0.0, 1.0, "prescriptive_status",
      "Legitimacy of a new regime that comes to power on the human-rights coalition.",
      "001 Phase 4: the opposition gains power (Philippines, South Africa, Eastern Europe)"),
    # --- prescriptive status and institutions -------------------------------------------------
    P("ratification_rate", 0.25, "per year", 0.0, 5.0, "institutions",
      "Hazard of ratifying the core conventions once norms are accepted, times norm density.",
      "001 Phase 4 indicator 1"),
    P("tactical_ratification_rate", 0.04, "per year", 0.0, 5.0, "institutions",
      "Hazard of ratifying as a tactical move before accepting the norm, times norm density.",
      "001 Socialization: governments sign agreements to regain aid; 003 decoupling"),
    P("protocol_rate", 0.12, "per year", 0.0, 5.0, "institutions",
      "Hazard of ratifying the optional protocols (individual complaints, OPCAT) once accepted.",
      "001 Phase 4 indicator 1 (including optional protocols)"),
    P("institution_rate", 0.3, "per year", 0.0, 5.0, "institutions",
      "Hazard of each domestic institution (constitution, complaint mechanism, training)"
      " once norms are accepted.", "001 Phase 4 indicators 2-3 and institutionalisation"),
    P("retreat_rate", 0.06, "per year", 0.0, 5.0, "backsliding",
      "Hazard that a consolidated new regime retreats from prescriptive status without pressure.",
      "000 Change of regime: a new regime may retreat once consolidated"),
    P("consolidation_years", 6.0, "years", 0.5, 50.0, "backsliding",
      "Years after which a new regime counts as consolidated.", "assumption"),
    P("political_floor", 0.12, "repression (0-1)", 0.0, 1.0, "prescriptive_status",
      "Political repression a state aims at once it accepts the norm.",
      "001 Phase 4: high-profile repression falls first"),
    P("repression_adjust", 0.5, "per year", 0.01, 10.0, "government",
      "Speed at which political repression follows the government's target.", "assumption"),
    P("endemic_drift", 0.08, "per year", 0.0, 5.0, "government",
      "Rate at which endemic abuse returns to its structural level when nothing pushes it down.",
      "001 Phase 5: abuse persists where forces are not under control; assumption for size"),
    # --- hypothesis 4: pincer and habituation -------------------------------------------------
    P("compliance_rate", 0.6, "per year", 0.0, 5.0, "pincer",
      "Rate of improvement of practice under full pressure from above and below.",
      "001 hypothesis 4"),
    P("pressure_half", 0.15, "pressure (0-1)", 0.001, 1.0, "pincer",
      "Pressure from above or below that gives half the effect in the pincer.", "assumption"),
    P("habituation_rate", 0.2, "per year", 0.0, 5.0, "habituation",
      "Growth of habituation while institutions hold and repression is low.",
      "001 Phase 5: institutionalisation and habitualisation"),
    P("low_repression", 0.2, "repression (0-1)", 0.0, 1.0, "habituation",
      "Overall repression at or below which practice counts as rule-consistent.",
      "001 Phase 5; matches PTS 1-2 on the 1-5 scale (1 + 4 x 0.2 = 1.8)"),
    P("habituation_tolerance", 1.5, "multiplier", 1.0, 5.0, "habituation",
      "Once rule-consistent, repression may rise to this multiple of low_repression before the"
      " phase is lost (hysteresis: a habit is not broken by one bad year).",
      "001 Phase 5: compliance becomes habitual; assumption for size"),
    P("habituation_threshold", 0.6, "habituation (0-1)", 0.0, 1.0, "habituation",
      "Habituation at which compliance no longer depends on who rules.",
      "001 Phase 5: norms taken for granted"),
    P("attention_release", 0.6, "share (0-1)", 0.0, 1.0, "attention_fading",
      "Share of network demand released once a country reaches rule-consistent behaviour.",
      "000 Respect: reduced network activity; 001 Phase 5"),
    # --- levers: how strongly each scheduled intervention acts at strength 1 ------------------
    P("bilateral_pressure_gain", 1.0, "pressure per unit of lever strength", 0.0, 2.0, "levers",
      "Pressure from above added by bilateral pressure at lever strength 1.",
      "000 Repression: partners press the repressive state directly"),
    P("un_information_gain", 0.4, "information per year", 0.0, 5.0, "levers",
      "Information produced by UN or regional mechanisms (rapporteurs, missions).",
      "002 and 004: big-M mechanisms document and give visibility; assumption for size"),
    P("un_pressure", 0.3, "pressure (0-1)", 0.0, 1.0, "levers",
      "Multilateral pressure from engaging UN or regional mechanisms.",
      "000 Repression: partners invoke international and regional mechanisms"),
    P("un_protection", 0.3, "share (0-1)", 0.0, 1.0, "levers",
      "Protection of activists from the visibility mechanisms give.",
      "002: visibility as protection; assumption for size"),
    P("aid_leverage", 1.0, "pressure per unit of material vulnerability", 0.0, 2.0, "levers",
      "Pressure from aid conditionality, times the target's material vulnerability.",
      "001 Phase 2: aid made conditional on human-rights performance"),
    P("funding_gain", 1.0, "multiplier", 0.0, 5.0, "levers",
      "Extra growth of mobilisation and linkage from funding domestic groups.",
      "000 Repression: partners may help fund struggling domestic groups; 004 donors"),
    # --- empty promises (003) -----------------------------------------------------------------
    P("treaty_leverage", 0.05, "per year", 0.0, 5.0, "treaty_leverage",
      "Yearly reduction of repression, once the conceding state argues with its critics, from a"
      " ratified treaty invoked by a mobilised civil society.",
      "003 decoupling: ratification helps only where domestic groups can invoke it, and argument"
      " is the way out of decoupling"),
    P("treaty_hook", 1.0, "multiplier", 0.0, 5.0, "treaty_leverage",
      "Extra pressure from below that a ratified treaty gives a mobilised society.",
      "003 political opportunity structure: commitments give domestic groups leverage"),
    P("treaty_civil_half", 0.35, "mobilisation (0-1)", 0.01, 1.0, "treaty_leverage",
      "Mobilisation at which civil society uses ratified treaties half as well as it could.",
      "003 (Neumayer 2005: treaties matter with strong civil society); assumption for size"),
)

PARAMETER_INDEX: dict[str, Parameter] = {p.name: p for p in PARAMETERS}


def _make_params_model() -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for p in PARAMETERS:
        fields[p.name] = (
            float,
            Field(
                default=p.default,
                ge=p.lo,
                le=p.hi,
                description=f"{p.description} Unit: {p.unit}. Grounding: {p.grounding}.",
                json_schema_extra={"unit": p.unit, "grounding": p.grounding,
                                   "mechanism": p.mechanism},
            ),
        )
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Parameters",
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__="Model parameters; any subset may be overridden in a scenario's [parameters].",
        **fields,
    )


Parameters = _make_params_model()
