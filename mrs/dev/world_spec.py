"""The fixed story of the demo world: places, products, scenarios, evidence and decoys.

Times of scenarios and evidence are offsets in hours from the start of the detection window
(the demo's 2025-08-07 00:00, a Thursday), so a world of another length keeps the same story.
Store and product references are 0-based indexes into the generated store and product lists.
"""

from __future__ import annotations

from dataclasses import dataclass

RETAILERS: tuple[tuple[str, float], ...] = (
    # (retailer, size factor of its stores)
    ("Tesco", 1.4),
    ("Sainsbury's", 1.2),
    ("Asda", 1.3),
    ("Morrisons", 1.0),
    ("Co-op", 0.7),
    ("Waitrose", 0.85),
)

CITIES: tuple[tuple[str, str, float, float, float], ...] = (
    # (city, region, latitude, longitude, footfall factor)
    ("London", "London", 51.5074, -0.1278, 1.2),
    ("Manchester", "North West", 53.4808, -2.2426, 1.05),
    ("Birmingham", "West Midlands", 52.4862, -1.8904, 1.0),
    ("Leeds", "Yorkshire and the Humber", 53.8008, -1.5491, 0.95),
    ("Glasgow", "Scotland", 55.8642, -4.2518, 1.0),
    ("Bristol", "South West", 51.4545, -2.5879, 0.95),
    ("Cardiff", "Wales", 51.4816, -3.1791, 0.9),
    ("Newcastle", "North East", 54.9783, -1.6178, 0.9),
)

PRODUCTS: tuple[tuple[str, str, str, float, float], ...] = (
    # (product_name, brand, category, units per peak hour, unit price in GBP)
    ("Milk Chocolate Bar 45g", "Cocoa & Co", "chocolate", 14.0, 1.25),
    ("Sea Salt Crisps 150g", "Crunchwell", "crisps", 12.0, 1.85),
    ("Fruit Gummies 180g", "Jellyjoy", "sweets", 9.0, 1.50),
    ("Peppermint Mints 35g", "Fresco", "mints", 6.0, 0.95),
    ("Salted Caramel Popcorn 100g", "Poppa", "popcorn", 7.0, 2.10),
    ("Protein Bar 60g", "Forge", "snack_bars", 6.0, 1.99),
    ("Fruit Ice Lolly 4-pack", "Polar Treats", "frozen_confectionery", 7.0, 2.50),
)

# Relative demand by weekday, Monday first.
WEEKDAY_FACTORS: tuple[float, ...] = (0.90, 0.92, 0.95, 1.00, 1.12, 1.25, 1.15)
# Trading hours [open, close): Monday to Saturday, and Sunday.
WEEKDAY_HOURS = (7, 22)
SUNDAY_HOURS = (10, 16)

CAUSE_TAXONOMY: tuple[tuple[str, str, str], ...] = (
    ("tpo_promotion", "Trade promotion", "Price or multibuy promotion run with the retailer."),
    ("paid_media", "Paid media", "Bought advertising: search, social, display, video."),
    ("social_viral", "Viral social", "Organic social media attention, such as a viral video."),
    ("traditional_media", "Traditional media", "Unpaid TV, radio or press coverage."),
    ("competitor_stockout", "Competitor stock-out", "A rival product is unavailable."),
    ("weather", "Weather", "Heatwave, cold snap, storm or other local weather."),
    ("holiday", "Holiday", "Bank holiday, school holiday or local event."),
    ("data_error", "Data error", "The feed misreports sales: till faults, duplicated loads."),
    ("operational", "Operational", "Store outage, closure, stock or staffing problem."),
    ("unknown", "Unknown", "No evidence explains the anomaly yet."),
)


@dataclass(frozen=True)
class Scenario:
    """One narrative: an anomaly in some store x product series, with its true cause."""

    narrative_id: str
    narrative_name: str
    stores: tuple[int, ...]
    products: tuple[int, ...]
    start_hour: int
    end_hour: int
    cause: str
    cause_category: str
    cluster_name: str
    shape: str
    magnitude: float
    direction: int
    confidence: float
    # A data error multiplies the recorded units rather than demand.
    recorded_multiplier: bool = False
    revenue_factor: float = 1.0


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "MRS-001",
        "Competitor crisps supply disruption",
        (1, 9, 17),
        (1,),
        10,
        66,
        "Rival crisps out of stock across Manchester",
        "competitor_stockout",
        "sustained_plateau",
        "sustained_plateau",
        0.9,
        1,
        0.85,
    ),
    Scenario(
        "MRS-002",
        "Viral gummies video",
        (0, 8, 13, 19),
        (2,),
        36,
        62,
        "TikTok trend featuring fruit gummies",
        "social_viral",
        "sharp_spike",
        "sharp_spike",
        2.2,
        1,
        0.80,
    ),
    Scenario(
        "MRS-003",
        "Bristol heatwave",
        (5, 13, 21),
        (6,),
        105,
        136,
        "Heatwave in Bristol lifts ice lolly sales",
        "weather",
        "gradual_ramp",
        "gradual_ramp",
        1.4,
        1,
        0.75,
    ),
    Scenario(
        "MRS-004",
        "Till double-scan fault",
        (10,),
        (0, 1),
        55,
        88,
        "Till fault recorded every sale twice",
        "data_error",
        "duplicated_block",
        "duplicated_block",
        1.0,
        1,
        0.95,
        recorded_multiplier=True,
    ),
    Scenario(
        "MRS-005",
        "Popcorn 2-for-1",
        (1, 7, 13, 19),
        (4,),
        104,
        134,
        "2-for-1 promotion on popcorn at Sainsbury's",
        "tpo_promotion",
        "promo_step",
        "promo_step",
        1.3,
        1,
        0.90,
        revenue_factor=0.5,
    ),
    Scenario(
        "MRS-006",
        "Protein bar TV mention",
        (2, 11, 16),
        (5,),
        32,
        42,
        "Protein bar featured on breakfast TV",
        "traditional_media",
        "media_pulse",
        "media_pulse",
        2.0,
        1,
        0.70,
    ),
    Scenario(
        "MRS-007",
        "Tesco Glasgow power cut",
        (12,),
        (0, 1, 2, 3, 4, 5, 6),
        129,
        135,
        "Power cut closed the store",
        "operational",
        "sudden_drop",
        "sudden_drop",
        0.95,
        -1,
        0.95,
    ),
    Scenario(
        "MRS-008",
        "Unexplained chocolate uplift",
        (3,),
        (0,),
        13,
        41,
        "Unexplained uplift",
        "unknown",
        "sustained_plateau",
        "sustained_plateau",
        1.0,
        1,
        0.30,
    ),
)


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    campaign_name: str
    channel: str
    cause_category: str
    start_hour: float
    end_hour: float
    product: int | None = None
    retailer: str | None = None
    region: str | None = None
    city: str | None = None
    store: int | None = None
    spend: float | None = None


@dataclass(frozen=True)
class ContextEvent:
    event_id: str
    event_type: str
    event_subtype: str
    event_name: str
    start_hour: float
    end_hour: float
    retailer: str | None = None
    region: str | None = None
    city: str | None = None
    store: int | None = None
    product: int | None = None
    url: str | None = None
    severity: str | None = None


CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign(
        "CMP-001",
        "Popcorn 2-for-1",
        "in_store",
        "tpo_promotion",
        104,
        134,
        product=4,
        retailer="Sainsbury's",
        spend=15000.0,
    ),
    # Decoys: no anomaly follows them.
    Campaign(
        "CMP-002",
        "Summer crisps social ads",
        "social",
        "paid_media",
        -576,
        -408,
        product=1,
        spend=40000.0,
    ),
    Campaign(
        "CMP-003",
        "Mints multibuy",
        "in_store",
        "tpo_promotion",
        0,
        144,
        product=3,
        retailer="Asda",
        spend=8000.0,
    ),
    Campaign(
        "CMP-004",
        "Back to school chocolate",
        "display",
        "paid_media",
        432,
        744,
        product=0,
        spend=25000.0,
    ),
    Campaign(
        "CMP-005",
        "Protein bar search",
        "search",
        "paid_media",
        -744,
        -624,
        product=5,
        spend=12000.0,
    ),
)

CONTEXT_EVENTS: tuple[ContextEvent, ...] = (
    ContextEvent(
        "CTX-001",
        "competitor_stockout",
        "supply_disruption",
        "Rival crisps supply disruption in Manchester",
        8,
        68,
        city="Manchester",
        region="North West",
        product=1,
        severity="high",
    ),
    ContextEvent(
        "CTX-002",
        "social_viral",
        "tiktok",
        "Fruit gummies TikTok trend",
        35,
        62,
        product=2,
        url="https://example.com/social/tiktok-gummies-trend",
        severity="high",
    ),
    ContextEvent(
        "CTX-003",
        "weather",
        "heatwave",
        "Bristol heatwave",
        102,
        140,
        city="Bristol",
        region="South West",
        severity="amber",
    ),
    ContextEvent(
        "CTX-004",
        "data_error",
        "till_fault",
        "Till double-scan fault",
        55,
        88,
        store=10,
        severity="high",
    ),
    ContextEvent(
        "CTX-005",
        "traditional_media",
        "tv_mention",
        "Protein bar on breakfast TV",
        31.5,
        32.0,
        product=5,
        url="https://example.com/tv/breakfast-protein-bar",
    ),
    ContextEvent(
        "CTX-006",
        "operational",
        "store_outage",
        "Power cut at Tesco Glasgow",
        129,
        135,
        store=12,
        severity="critical",
    ),
    # Decoys: they overlap no anomaly.
    ContextEvent(
        "CTX-007",
        "weather",
        "heatwave",
        "Glasgow warm spell",
        -480,
        -408,
        city="Glasgow",
        region="Scotland",
        severity="yellow",
    ),
    ContextEvent(
        "CTX-008",
        "holiday",
        "bank_holiday",
        "Summer bank holiday (Scotland)",
        -72,
        -48,
        region="Scotland",
    ),
    ContextEvent(
        "CTX-009",
        "social_viral",
        "instagram",
        "Popcorn recipe reel",
        -312,
        -288,
        product=4,
        url="https://example.com/social/popcorn-reel",
    ),
    ContextEvent(
        "CTX-010",
        "competitor_stockout",
        "supply_disruption",
        "Rival chocolate shortage in Cardiff",
        -144,
        -96,
        city="Cardiff",
        region="Wales",
        product=0,
        severity="medium",
    ),
    ContextEvent(
        "CTX-011", "operational", "maintenance", "Freezer maintenance", 312, 320, store=20
    ),
)
