"""Benchmarks: time pipeline stages on large generated worlds against hand-written queries.

Timings are printed, never asserted: machines are shared and noisy, so each figure is
compared with a reference measured in the same run.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mrs.dev.build_timings import node_timings
from mrs.dev.world import WorldOptions, build_vars, write_world
from mrs.pipeline.database_lock import open_database
from mrs.pipeline.project import WITHOUT_TESTS, Project

DETECTION_MODELS = (
    "sales_timeseries_data",
    "baseline_sales_model_fit",
    "baseline_sales_predictions",
    "anomaly_scan_hours",
    "anomaly_candidate_window_hours",
    "anomaly_candidate_hours",
    "anomaly_classifier_model_real",
    "anomaly_classifier_model",
    "anomaly_classifier_decisions",
    "minority_reports_detected_log",
    "minority_event_ended_log",
    "baseline_sales_model_prediction_log",
    "anomaly_classifier_model_prediction_log",
)


def _count_z(y: str, e: str, v: str, b: str) -> str:
    """The count score of macro mrs_count_z: the NB deviance residual, skew-corrected, over
    the square root of the variance's excess over the NB variance (b is already >= 1e-9)."""
    m = f"greatest({e}, 0.01)"
    return f"""(sign({y} - {m}) * sqrt(greatest(2 * (
                case when {y} > 0 then {y} * ln({y} / {m}) else 0 end
                - case when {b} * greatest({y}, {m}) < 1e-6 then {y} - {m}
                       else ({y} + 1 / {b}) * ln((1 + {b} * {y}) / (1 + {b} * {m})) end), 0))
            + (1 + 2 * {b} * {m}) / (6 * sqrt({m} * (1 + {b} * {m})))
              * (1 - exp(-6.25 * {m})) * (1 + 0.3 * {m} * exp(-{m} / 2.5)))
           / sqrt(greatest(({v}) / ({m} * (1 + {b} * {m})), 1))"""


def _shrinkage_weight(prior: str, noise: str, median: str, count: str) -> str:
    """The weight of macro mrs_shrinkage_weight: prior / (prior + noise) and, from three
    observations on, all of the median's distance from 1 that the noise cannot explain."""
    prior_weight = f"coalesce({prior} / nullif({prior} + {noise}, 0), 0.0)"
    return f"""case when {count} >= 3
                    then greatest({prior_weight},
                                  1 - {noise} / greatest(pow({median} - 1, 2), 1e-12))
                    else {prior_weight} end"""


# The overdispersion of shares of a day over pairs of the same hour a week apart (share s,
# earlier share ps, day units u and pu), as macro mrs_share_overdispersion: the median
# change's square over a multinomial's and a chi-square's (0.455), at least 1.
SHARE_OVERDISPERSION = (
    "greatest(median(pow(s - ps, 2) / ((s + ps) / 2 * (1 - (s + ps) / 2)"
    " * (1 / u + 1 / pu))) / 0.455, 1.0)"
)


# The same baseline and elevated-hour flags as the detection models, as one query written
# by hand: the holidays the contextual data names (without the rule that keeps a store a
# weekday whose every training day is one, and sizes it by its other weekdays) and disturbed
# training days left out (of two same weekdays, one that moved against its store out of
# the profile but not of the noise), weekday
# level (the store's week shrunk towards the series' own, times a base from all clean days)
# x intraday shape (shrunk towards the store's), a two-pass count-aware spread, the own
# hour-of-week profile shrunk towards the pooled one and scaled to the weekday's total,
# day-level noise, the level (without its disturbed days), shape, weekday and hour-of-week
# factors and the deviance z (both sides alike: baseline_side_scales is off). It is the
# yardstick for the detection stage's cost.
REFERENCE_QUERY = f"""
create or replace temp table reference_flags as
with
settings as (select * from run_settings),
calendar as (
    -- the baseline's day starts at day_start_hour (baseline_day_start; the bench's worlds
    -- are read on UTC, no mrs_store_timezone)
    select to_hours(day_start_hour) as shift from baseline_day_start
),
sales as (
    select s.store_id, s.sku, s.sales_ts, s.units, s.sales_ts - calendar.shift as baseline_ts
    from stg_unified_sales_data s, settings, calendar
    where s.sales_ts >= settings.training_start and s.sales_ts < settings.as_of
),
holiday_days as (
    -- the days a holiday of the contextual data holds twelve hours or more of, per store
    -- (and product, where it names one)
    select distinct st.store_id, c.sku, cast(g.d as date) as day
    from (
        select * replace (start_ts - calendar.shift as start_ts, end_ts - calendar.shift as end_ts)
        from stg_contextual_data, calendar
    ) c
    join stg_stores st
        on (c.store_id is null or c.store_id = st.store_id)
        and (c.retailer is null or c.retailer = st.retailer)
        and (c.region is null or c.region = st.region)
        and (c.city is null or c.city = st.city),
        unnest(generate_series(date_trunc('day', c.start_ts),
                               c.end_ts - interval 1 second, interval 1 day)) as g(d)
    where c.event_type = 'holiday'
        and date_diff('minute', greatest(c.start_ts, g.d),
                      least(c.end_ts, g.d + interval 1 day)) >= 720
),
training as (
    select *, (isodow(baseline_ts) - 1) * 24 + hour(baseline_ts) as how,
           cast(baseline_ts as date) as day
    from sales, settings where sales_ts < settings.detection_start
        and not exists (
            select 1 from holiday_days h
            where h.store_id = sales.store_id and (h.sku is null or h.sku = sales.sku)
                and h.day = cast(sales.baseline_ts as date))
),
days as (
    select store_id, sku, day, min(how // 24) as dow, sum(units) as total
    from training group by all
),
dow_all as (select store_id, sku, dow, median(total) as level from days group by all),
series_all as (select store_id, sku, median(total) as level from days group by all),
others as (
    select d.store_id, d.sku, d.day, median(o.total) as ref, count(*) as n
    from days d join days o on o.store_id = d.store_id and o.sku = d.sku and o.dow = d.dow
        and o.day <> d.day
    group by all
),
store_days as (
    -- the store's day: its median product's log day over that product's median day
    select d.store_id, d.day, median(ln((d.total + 1) / (s.level + 1))) as slr
    from days d join series_all s using (store_id, sku) group by all
),
ratios as (
    select d.*,
           ln((d.total + 1) / (case when o.n >= 2 then o.ref else s.level end + 1)) as lr,
           coalesce(o.n, 0) < 2 as vs_median,
           ln((d.total + 1) / (s.level + 1)) - sd.slr as sr
    from days d join series_all s using (store_id, sku)
    join store_days sd using (store_id, day)
    left join others o using (store_id, sku, day)
),
centres as (
    select store_id, sku, median(lr) as c, median(sr) as rc from ratios group by all
),
spreads as (
    -- at least half a day total's counting sd at the series' median day, and 0.02
    -- (mostly_median: most days measured against the median day, the spread holding the week)
    select r.store_id, r.sku, c.c, c.rc, f.fl,
           greatest(1.4826 * median(abs(r.lr - c.c)), f.fl) as sd,
           count(*) filter (where r.vs_median) * 2 > count(*) as mostly_median
    from ratios r join centres c using (store_id, sku)
    join (select store_id, sku, greatest(0.5 * sqrt(level) / (level + 1), 0.02) as fl
          from series_all) f using (store_id, sku)
    group by r.store_id, r.sku, c.c, c.rc, f.fl
),
pairs as (
    -- a weekday's two days: how far apart against their store, and the series' typical gap;
    -- and how far apart the days themselves
    select store_id, sku, dow, max(sr) - min(sr) as gap, max(lr) - min(lr) as own_gap
    from ratios group by store_id, sku, dow having count(*) = 2
),
rough_pair_sd as (
    select store_id, sku, median(gap) / 0.6745 as gsd, median(own_gap) / 0.6745 as ogsd
    from pairs group by all
),
pair_sd as (
    -- the typical gaps again, without the pairs beyond 3.5 of the first
    select p.store_id, p.sku,
           median(p.gap) filter (where p.gap <= 3.5 * r.gsd) / 0.6745 as gsd,
           median(p.own_gap) filter (where p.own_gap <= 3.5 * r.ogsd) / 0.6745 as ogsd
    from pairs p join rough_pair_sd r using (store_id, sku) group by all
),
store_pairs as (select store_id, count(*) as n_series from rough_pair_sd group by all),
day_sds as (
    -- one day's spread around its weekday: where most of the series' days had fewer than
    -- two others of their weekday (the spread then holds its week), the pairs' gap / sqrt 2,
    -- against the store where it has five series with pairs or more, else of its own days
    select s.store_id, s.sku,
           case when s.mostly_median and sp.n_series >= 5 and ps.gsd is not null
                then greatest(ps.gsd / sqrt(2), s.fl)
                when s.mostly_median and ps.ogsd is not null
                then greatest(ps.ogsd / sqrt(2), s.fl)
                else s.sd end as dsd
    from spreads s left join pair_sd ps using (store_id, sku)
    left join store_pairs sp using (store_id)
),
noise_days as (
    -- disturbed beyond 3.5 deviations, but at most a minority of a weekday's days; of two
    -- days far apart against their store (3.5 typical gaps), the one that moved more; a
    -- weekday's only day, where it moved against its store beyond 3.5 typical gaps / sqrt 2
    -- and a quarter. `moved`: of two days, the one that moved against its store beyond 3.5
    -- typical gaps and a quarter, left out of the profile but not of the noise
    select * exclude (sr, rc, gap, gsd, vs_median),
           coalesce(n = 2 and rk = 1 and gsd > 0 and gap > 3.5 * gsd
                    and abs(sr - rc) >= ln(1.25), false) as moved
    from (
        select r.*, abs(r.lr - s.c) as dev, s.sd, s.rc, pr.gap, ps.gsd,
               row_number() over (
                   partition by r.store_id, r.sku, r.dow
                   order by case when pr.gap > 3.5 * ps.gsd then abs(r.sr - s.rc)
                                 else abs(r.lr - s.c) end desc, r.day) as rk,
               count(*) over (partition by r.store_id, r.sku, r.dow) as n
        from ratios r join spreads s using (store_id, sku)
        left join pairs pr using (store_id, sku, dow)
        left join pair_sd ps using (store_id, sku)
    ) where case when n = 1 and gsd > 0
                 then abs(sr - rc) <= greatest(3.5 * gsd / sqrt(2), ln(1.25))
                 else dev <= 3.5 * sd or rk > greatest((n - 1) // 2, least(n - 1, 1)) end
),
clean_days as (select * exclude (moved) from noise_days where not moved),
noise as (select t.*, c.moved from training t join noise_days c using (store_id, sku, day)),
clean as (select * exclude (moved) from noise where not moved),
cells as (select store_id, sku, how, median(units) as med from training group by all),
store_kinds as (
    -- each weekday's distance from the store's typical day (half the gap of its shares)
    select store_id, dow, sum(abs(st - typ)) / 2 as dist
    from (select *, median(st) over (partition by store_id, hod) as typ
          from (select *, coalesce(u / nullif(sum(u) over (partition by store_id, dow), 0), 0)
                           as st
                from (select store_id, how // 24 as dow, how % 24 as hod, sum(units) as u
                      from clean group by all)))
    group by all
),
store_weekend as (
    -- the store's weekend: the neighbouring pair furthest from its typical day, each of its
    -- days at least twice as far as the median day
    select k.store_id, k.dow, k.dow in (p.d1, p.d2) and k.dist > 2 * median(k.dist) over (
               partition by k.store_id) as wk
    from store_kinds k
    join (select a.store_id, a.dow as d1, b.dow as d2,
                 row_number() over (partition by a.store_id
                                    order by a.dist + b.dist desc, a.dow = 5 desc, a.dow) as rk
          from store_kinds a join store_kinds b
              on a.store_id = b.store_id and b.dow = (a.dow + 1) % 7) p
        on p.store_id = k.store_id and p.rk = 1
),
open_days as (
    -- weekend days pool their shape apart from the weekdays
    select c.store_id, c.sku, c.how // 24 as dow, min(c.how % 24) as first_hour,
           max(c.how % 24) as last_hour, coalesce(any_value(w.wk), false) as wk
    from cells c left join store_weekend w on w.store_id = c.store_id and w.dow = c.how // 24
    where c.med > 0 group by c.store_id, c.sku, c.how // 24
),
clean_levels as (select store_id, sku, median(total) as level from clean_days group by all),
own_dow as (
    -- each weekday's median clean day over the series' median clean day, and its noise
    select c.store_id, c.sku, c.dow, count(*) as n,
           median(c.total) / nullif(any_value(cl.level), 0) as own_r,
           pow(any_value(sp.dsd), 2) as dn,
           pi() / (2 * count(*)) * pow(any_value(sp.dsd), 2) as rn
    from clean_days c join clean_levels cl using (store_id, sku)
    join day_sds sp using (store_id, sku)
    group by c.store_id, c.sku, c.dow
),
store_dow as (
    -- the store's week: its products' ratios weighted by 1 / their day-to-day spread^2
    select store_id, dow, sum(own_r / dn) / nullif(sum(1 / dn), 0) as st_r
    from own_dow where own_r is not null group by all
),
dow_tau as (
    select o.store_id, o.sku, greatest(avg(pow(o.own_r / s.st_r - 1, 2) - o.rn), 0.0) as t2
    from own_dow o join store_dow s using (store_id, dow)
    where s.st_r > 0 and o.own_r is not null group by all
),
dow_ratios as (
    -- the store's ratio moved towards the own as far as the own is more than noise
    select o.store_id, o.sku, o.dow, o.n, o.own_r, w,
           coalesce(st_r + w * (o.own_r - st_r), o.own_r, st_r) as r
    from (
        select o.*, case when s.st_r > 0 then s.st_r end as st_r,
               coalesce(t.t2 / nullif(t.t2 + o.rn, 0), 0.0) as w
        from own_dow o left join store_dow s using (store_id, dow)
        left join dow_tau t using (store_id, sku)
    ) o
),
bases as (
    select c.store_id, c.sku, median(c.total / r.r) as base, count(*) as n
    from clean_days c join dow_ratios r using (store_id, sku, dow)
    where r.r > 0 group by all
),
levels as (
    select a.store_id, a.sku, a.dow,
           coalesce(b.base * r.r, case when r.r = 0 then 0.0 end, b.base * sd.st_r, a.level)
               as level,
           r.w as dow_w, r.own_r is not null as has_own, o.n as dow_n, b.n as base_n
    from dow_all a
    left join dow_ratios r using (store_id, sku, dow)
    left join own_dow o using (store_id, sku, dow)
    left join store_dow sd on sd.store_id = a.store_id and sd.dow = a.dow and sd.st_r > 0
    left join bases b using (store_id, sku)
),
shares as (
    select t.store_id, t.sku, o.first_hour, o.last_hour, o.wk, t.how % 24 as hod,
           t.units / d.total as share
    from clean t
    join clean_days d using (store_id, sku, day)
    join open_days o on o.store_id = t.store_id and o.sku = t.sku and o.dow = d.dow
    where d.total > 0
),
bounded as (
    select *, quantile_cont(share, 0.1) over g as lo, quantile_cont(share, 0.9) over g as hi
    from shares
    window g as (partition by store_id, sku, first_hour, last_hour, wk, hod)
),
shape as (
    select store_id, sku, first_hour, last_hour, wk, hod, count(*) as n,
           avg(least(greatest(share, lo), hi)) as s
    from bounded group by all
),
shape_norm as (
    select *,
           s / nullif(sum(s) over (partition by store_id, sku, first_hour, last_hour, wk), 0)
           as share
    from shape
),
series_share_changes as (
    select t.store_id, t.sku, t.units / d.total as s, d.total as u,
           lag(t.units / d.total) over w as ps, lag(d.total) over w as pu
    from clean t join clean_days d using (store_id, sku, day)
    where d.total > 0
    window w as (partition by t.store_id, t.sku, t.how order by t.day)
),
series_phi as (
    -- the overdispersion of the series' shares of their days
    select store_id, sku, {SHARE_OVERDISPERSION} as phi
    from series_share_changes where s + ps > 0 and s + ps < 2 group by all
),
store_share_changes as (
    select store_id, u / du as s, du as u,
           lag(u / du) over w as ps, lag(du) over w as pu
    from (select store_id, day, how, sum(units) as u,
                 sum(sum(units)) over (partition by store_id, day) as du
          from clean group by store_id, day, how)
    where du > 0
    window w as (partition by store_id, how order by day)
),
store_phi as (
    select store_id, {SHARE_OVERDISPERSION} as phi
    from store_share_changes where s + ps > 0 and s + ps < 2 group by all
),
store_shape as (
    -- the store's shape per weekday (all its products' clean units) and its shares' noise
    select h.store_id, dow, hod, u / nullif(sum(u) over wd, 0) as st,
           coalesce(sp.phi, 1.0) * u * (sum(u) over wd - u) / nullif(pow(sum(u) over wd, 3), 0)
               as st_noise
    from (select store_id, how // 24 as dow, how % 24 as hod, sum(units) as u
          from clean group by all) h
    left join store_phi sp on sp.store_id = h.store_id
    window wd as (partition by h.store_id, dow)
),
weekday_units as (select store_id, sku, dow, sum(total) as u from clean_days group by all),
mix_terms as (
    select c.store_id, c.sku, c.how, coalesce(sh.share, 0.0) as own_s,
           coalesce(st.st, 0.0) as st, coalesce(sh.n, 0) as n,
           coalesce(sp.phi, 1.0) * coalesce(st.st, 0.0) * (1 - coalesce(st.st, 0.0))
               / nullif(wu.u, 0) as noise,
           coalesce(st.st_noise, 0.0) as st_noise,
           wu.u is null as no_clean_day
    from cells c
    left join open_days o on o.store_id = c.store_id and o.sku = c.sku and o.dow = c.how // 24
    left join shape_norm sh on sh.store_id = c.store_id and sh.sku = c.sku
        and sh.first_hour = o.first_hour and sh.last_hour = o.last_hour and sh.wk = o.wk
        and sh.hod = c.how % 24
    left join store_shape st on st.store_id = c.store_id and st.dow = c.how // 24
        and st.hod = c.how % 24
    left join weekday_units wu on wu.store_id = c.store_id and wu.sku = c.sku
        and wu.dow = c.how // 24
    left join series_phi sp on sp.store_id = c.store_id and sp.sku = c.sku
),
mix_tau as (
    select store_id, sku,
           greatest(sum(pow(own_s - st, 2) - noise) / nullif(sum(st * st), 0), 0.0) as t2
    from mix_terms where st > 0 and noise is not null group by all
),
mixed as (
    -- the series' own shape shrunk towards its store's as far as it is noise, and the
    -- variance of that share
    -- (a weekday without a clean day takes its store's shape of that weekday, as far off as
    -- the series' shape is from its store's)
    select store_id, sku, how, n, st + k * (own_s - st) as s,
           case when no_clean_day then coalesce(t2, 0.0) * st * st
                else k * k * coalesce(noise, 0.0) end + (1 - k) * (1 - k) * st_noise as s_var
    from (
        select m.*, t.t2,
               case when m.no_clean_day then 0.0 else coalesce(
                   t.t2 * m.st * m.st / nullif(t.t2 * m.st * m.st + m.noise, 0), 1.0) end as k
        from mix_terms m left join mix_tau t using (store_id, sku)
    )
),
pooled as (
    select m.store_id, m.sku, m.how,
           coalesce(l.level * m.s / nullif(sum(m.s) over (partition by m.store_id, m.sku,
               m.how // 24), 0), 0) as p,
           pow(coalesce(l.level, 0), 2) * m.s_var as p_var,
           m.n as pooled_days
    from mixed m
    left join levels l on l.store_id = m.store_id and l.sku = m.sku and l.dow = m.how // 24
),
changes as (
    select t.store_id, t.sku, p.p,
           t.units - lag(t.units) over (partition by t.store_id, t.sku, t.how
                                        order by t.sales_ts) as d
    from noise t join pooled p using (store_id, sku, how) where p.p > 0
),
squares as (
    select store_id, sku, p as x, least(d * d / (2 * p), 1e12) as y
    from changes where d is not null
),
rough as (
    select store_id, sku, greatest(median(y) / 0.455, 1.0) as f, avg(x) as m
    from squares group by all
),
kept as (
    -- without the changes beyond 3.5 deviations of the series' rough level (baseline_trim_z)
    select q.* from squares q join rough r using (store_id, sku)
    where q.y <= 3.5 * 3.5 * r.f * greatest(q.x / r.m, 1.0)
),
moments as (
    select store_id, sku, sum(x * (y - 1)) as sxy, sum(x * x) as sxx, avg(x) as m
    from kept group by all
),
pooled_b as (select median(greatest(sxy / nullif(sxx, 0), 0.0)) as b from moments),
dispersion as (
    -- each series' b shrunk towards the median's with 2 (1 + 1/(m b))^2 hours
    -- (baseline_dispersion_prior_hours)
    select store_id, sku, 1.0 as alpha,
           greatest((sxy + k * pb * m * m) / nullif(sxx + k * m * m, 0), 0.0) as beta
    from (
        select moments.*, pooled_b.b as pb,
               2 * pow(1 + 1 / greatest(m * pooled_b.b, 1e-6), 2) as k
        from moments, pooled_b
    )
),
store_hours as (
    -- the median share of each hour of the week in its day over the store's products and
    -- clean days
    select c.store_id, c.how, median(c.units / nullif(d.total, 0)) as share
    from clean c join clean_days d using (store_id, sku, day)
    group by all
),
own_hours as (
    -- the two weeks of each hour side by side, and what the store's shape says of each
    select *,
           bool_or(units = lo and units < ref - 3.5 * sd) over w
           and bool_or(units = hi and abs(units - ref) <= 3.5 * sd) over w as low_odd
    from (
        select c.store_id, c.sku, c.how, c.units, coalesce(d.beta, 0.0) as beta,
               h.share * cd.total as ref,
               sqrt(h.share * cd.total * (1 + coalesce(d.beta, 0.0) * h.share * cd.total)
                    + 0.01) as sd,
               count(*) over w2 as weeks, min(c.units) over w2 as lo,
               max(c.units) over w2 as hi
        from clean c
        join clean_days cd on cd.store_id = c.store_id and cd.sku = c.sku and cd.day = c.day
        join store_hours h on h.store_id = c.store_id and h.how = c.how
        left join dispersion d on d.store_id = c.store_id and d.sku = c.sku
        window w2 as (partition by c.store_id, c.sku, c.how)
    )
    window w as (partition by store_id, sku, how)
),
own_clean as (
    -- of two weeks that differ beyond 3.5 of their noise (baseline_trim_z), the odd one is
    -- left out: the lower where the store's shape says it is a dip, else the higher
    select store_id, sku, how, units
    from own_hours
    where not (
        weeks = 2
        and hi - lo > 3.5 * sqrt(2 * (hi + lo) / 2 * (1 + beta * (hi + lo) / 2) + 0.01)
        and units = case when low_odd then lo else hi end
    )
),
own as (
    -- the median of grouped data where several weeks share the median value
    select store_id, sku, how, count(*) as n,
        case when count(*) filter (where units = med) > 1
             then med - 0.5 + (count(*) / 2.0 - count(*) filter (where units < med))
                  / count(*) filter (where units = med)
             else med end as own
    from (select *, median(units) over (partition by store_id, sku, how) as med from own_clean)
    group by store_id, sku, how, med
),
terms as (
    select p.*, o.own, coalesce(o.n, 0) as n,
           coalesce(d.alpha, 1.0) as alpha, coalesce(d.beta, 0.0) as beta,
           pi() / 2 * p.p * greatest(1.0, coalesce(d.alpha, 1.0) + coalesce(d.beta, 0.0) * p.p)
               / nullif(o.n, 0) as own_var
    from pooled p
    left join own o using (store_id, sku, how)
    left join dispersion d using (store_id, sku)
),
tau as (
    -- how far each series' own hours sit from the pooled profile beyond their noise, per
    -- quarter of each weekday, each hour weighted by its precision
    select store_id, sku, how // 24 as dow, how % 24 // 6 as quarter,
           greatest(sum(pow(own - p, 2) / own_var - 1) / nullif(sum(p * p / own_var), 0), 0.0)
               as t2
    from terms where p > 0 and own_var > 0 group by all
),
profile as (
    -- the own/pooled mix scaled so each weekday adds up to the pooled daily total
    select *,
           case when sum(mix) over d > 0 then mix * sum(p) over d / sum(mix) over d
                else mix end as profile
    from (
        select t.*, p + w * (coalesce(own, 0) - p) as mix,
               w * w * pi() / (2 * greatest(n, 1))
               + (1 - w) * (1 - w) * p_var / nullif(p * (1 + beta * p), 0) as estimate_var
        from (
            select terms.*,
                   coalesce(tau.t2 * p * p / nullif(tau.t2 * p * p + own_var, 0), 0.0) as w
            from terms left join tau on tau.store_id = terms.store_id
                and tau.sku = terms.sku and tau.dow = terms.how // 24
                and tau.quarter = terms.how % 24 // 6
        ) t
    )
    window d as (partition by store_id, sku, how // 24)
),
day_changes as (
    -- week-over-week changes of the noise's days' totals
    select store_id, sku, dow,
           total - lag(total) over (partition by store_id, sku, dow order by day) as change
    from noise_days
),
weekday_var as (
    select p.store_id, p.sku, p.how // 24 as dow, sum(p.p) as units,
           sum(2 * p.p * (1 + coalesce(d.beta, 0.0) * p.p)) as indep
    from pooled p left join dispersion d using (store_id, sku) group by all
),
change_ratios as (
    select c.store_id, c.sku, c.change * c.change / w.indep as ratio,
           w.indep / (2 * w.units * w.units) as share
    from day_changes c join weekday_var w using (store_id, sku, dow)
    where c.change is not null and w.indep > 0
),
day_var_raw as (
    -- mean inflation (each ratio capped at 9 x the median-based one) beyond 1, times the
    -- independent share
    select r.store_id, r.sku, count(*) as pairs,
           greatest(avg(least(r.ratio, 9 * f.f)) - 1, 0.0) * median(r.share) as dv,
           median(r.share) as share
    from change_ratios r
    join (select store_id, sku, greatest(median(ratio) / 0.455, 1.0) as f
          from change_ratios group by all) f using (store_id, sku)
    group by all
),
day_var as (
    -- shrunk towards the median series' with 3 days (baseline_inflation_prior_blocks) x
    -- (1 + independent share / pooled s^2)^2
    select store_id, sku, (pairs * dv + k * m) / (pairs + k) as dv
    from (
        select *, 3 * pow(1 + share / greatest(m, 1e-6), 2) as k
        from day_var_raw, (select coalesce(median(dv), 0.0) as m from day_var_raw)
    )
),
scored_days as (
    select s.store_id, s.sku, s.sales_ts, s.baseline_ts, s.units, p.profile, p.estimate_var,
           cast(s.baseline_ts as date) as day, p.alpha, p.beta
    from sales s
    join profile p on p.store_id = s.store_id and p.sku = s.sku
        and p.how = (isodow(s.baseline_ts) - 1) * 24 + hour(s.baseline_ts)
),
trading_hours as (
    -- effective hours: (sum p)^2 / sum p^2, what b / hours of a day's total counts
    select store_id, sku, how // 24 as dow,
           coalesce(pow(sum(greatest(p, 0)), 2) / nullif(sum(pow(greatest(p, 0), 2)), 0),
                    count(*) filter (where p > 0 or own > 0)) as th
    from profile group by all
),
dow_noise as (
    -- one day's relative variance per weekday: counts, b / hours, s^2; or, where the
    -- weekday's clean days disagree beyond 3.5 of that (baseline_trim_z), their variance
    select *, case when lv > 3.5 * 3.5 * m then lv else m end as dn
    from (
        select l.*, 1 / greatest(l.level, 1)
                   + coalesce(d.beta, 0) / greatest(coalesce(t.th, 1), 1)
                   + coalesce(v.dv, 0) as m,
               g.lv
        from levels l left join dispersion d using (store_id, sku)
        left join day_var v using (store_id, sku)
        left join trading_hours t using (store_id, sku, dow)
        left join (
            select store_id, sku, dow, var_samp(ln(total + 1)) as lv
            from clean_days group by all
        ) g using (store_id, sku, dow)
    )
),
dow_level_var as (
    -- the weekday total's error: own ratio's, the store's, the base's
    select n.store_id, n.sku, n.dow,
           coalesce(n.dow_w * n.dow_w * pi() * n.dn / (2 * n.dow_n)
                    + (1 - n.dow_w) * (1 - n.dow_w) * s.sn + pi() * n.dn / (2 * n.base_n),
                    -- the store's ratio alone: its error and the series' week's departure
                    case when n.dow_n is null
                         then s.sn + coalesce(t.t2, 0.0) + pi() * n.dn / (2 * n.base_n) end,
                    pi() * n.dn / (2 * greatest(n.dow_n, 1))) as wlv
    from dow_noise n
    left join dow_tau t using (store_id, sku)
    left join (
        select store_id, dow, 1 / nullif(sum(2 * dow_n / (pi() * dn)), 0) as sn
        from dow_noise where has_own and dow_n > 0 group by all
    ) s using (store_id, dow)
),
day_ratios as (
    -- with the day total's relative variance from the hours' overdispersion, b / hours
    select d.store_id, d.sku, d.day, sum(d.profile) as pd,
           sum(d.units) / nullif(sum(d.profile), 0) as r,
           coalesce(any_value(d.beta), 0.0) / greatest(any_value(t.th), 1) as dd
    from scored_days d
    join trading_hours t on t.store_id = d.store_id and t.sku = d.sku
        and t.dow = isodow(d.day) - 1
    group by d.store_id, d.sku, d.day
),
recent_days as (
    -- the last 10 days' median ratio (baseline_level_days), and each day's noise: 1 / units
    -- + b / hours + s^2 + the weekday total's error, and pi / 2n of one day's for the median
    select d.*, coalesce(v.dv, 0.0) as dv0, coalesce(w.wlv, 0.0) as wlv0,
           median(d.r) over w as med0, count(d.r) over w as n0, avg(d.pd) over w as apd0
    from day_ratios d left join day_var v using (store_id, sku)
    left join dow_level_var w on w.store_id = d.store_id and w.sku = d.sku
        and w.dow = isodow(d.day) - 1
    window w as (partition by d.store_id, d.sku order by d.day
                 range between interval 10 days preceding and interval 1 day preceding)
),
disturbed_days as (
    -- beyond 3.5 (baseline_disturbed_day_z) of that noise from the median before it
    select *, coalesce(abs(r - med0) > 3.5 * sqrt(
               1 / greatest(pd, 1) + dd + dv0 + wlv0
               + pi() / (2 * greatest(n0, 1)) * (1 / greatest(apd0, 1) + dd + dv0)), false) as dist
    from recent_days
),
recent as (
    -- the median without the disturbed days while they are a minority, and its noise
    -- (pi / 2n x (1 / units + b / hours + s^2))
    select store_id, sku, day,
           case when 2 * cn > n0 then cmed else med0 end as med,
           pi() / (2 * greatest(case when 2 * cn > n0 then cn else n0 end, 1))
               * (1 / greatest(apd0, 1) + dd + dv0) as rv
    from (
        select *, median(r) filter (where not dist) over w as cmed,
               count(r) filter (where not dist) over w as cn
        from disturbed_days
        window w as (partition by store_id, sku order by day
                     range between interval 10 days preceding and interval 1 day preceding)
    )
),
day_levels as (
    -- shrunk towards 1: at least the weight of a level change of sd 0.1
    -- (baseline_level_drift_sd), and all of the distance the noise cannot explain
    select store_id, sku, day,
           coalesce(1 + (med - 1) * w, 1.0) as lf,
           case when med is null then 0.01 else w * rv end as lv
    from (
        select *, greatest(0.01 / (0.01 + rv), 1 - rv / greatest(pow(med - 1, 2), 1e-12)) as w
        from recent
    )
),
weekday_days as (
    -- each detection day's ratio over its level, the median of the same weekday's over the
    -- previous 4 weeks (baseline_weekday_weeks) and its noise
    select d.store_id, d.sku, d.day, w.wlv,
           median(d.wr) over wk as wm, count(d.wr) over wk as wn,
           pi() / (2 * greatest(count(d.wr) over wk, 1))
               * (1 / greatest(d.pd, 1) + d.dd + coalesce(v.dv, 0.0)) as wnv
    from (
        select r.*, case when r.day >= cast(settings.detection_start - calendar.shift as date)
                         then r.r / nullif(l.lf, 0) end as wr
        from day_ratios r join day_levels l using (store_id, sku, day), settings, calendar
    ) d
    left join day_var v using (store_id, sku)
    left join dow_level_var w on w.store_id = d.store_id and w.sku = d.sku
        and w.dow = isodow(d.day) - 1
    window wk as (partition by d.store_id, d.sku, isodow(d.day) order by d.day
                  range between interval 28 days preceding and interval 1 day preceding)
),
weekday_levels as (
    -- shrunk towards 1 by the fit's error of the weekday's total against that noise; with
    -- three or more days, all of the distance the noise cannot explain too
    select store_id, sku, day,
           coalesce(1 + (wm - 1) * k, 1.0) as wf,
           case when wm is null then coalesce(wlv, 0.0) else k * wnv end as wv
    from (
        select *, {_shrinkage_weight("wlv", "wnv", "wm", "wn")} as k
        from weekday_days
    )
),
hour_shares as (
    -- each trading hour's units over profile x its own day's ratio
    select h.store_id, h.sku, h.day, hour(h.baseline_ts) as hod, h.profile, h.beta,
           (isodow(h.baseline_ts) - 1) * 24 + hour(h.baseline_ts) as how, h.estimate_var,
           h.units / nullif(h.profile * d.r, 0) as q
    from scored_days h join day_ratios d using (store_id, sku, day)
    where h.profile > 0
),
recent_shares as (
    -- the last 14 days' median share of the same clock hour (baseline_shape_days) and its
    -- noise (pi / 2n x (1 / units + b))
    select distinct store_id, sku, day, hod, median(q) over w as mq,
           pi() / (2 * greatest(count(q) over w, 1))
               * (1 / greatest(avg(cast(profile as decimal(24, 9))) over w, 1e-9)
                  + coalesce(beta, 0.0)) as qv
    from hour_shares
    window w as (partition by store_id, sku, hod order by day
                 range between interval 14 days preceding and interval 1 day preceding)
),
shape_levels as (
    -- shrunk towards 1 against a drift of sd 0.05 (baseline_shape_drift_sd)
    select store_id, sku, day, hod,
           coalesce(1 + (mq - 1) * 0.05 * 0.05 / (0.05 * 0.05 + qv), 1.0) as sf,
           case when mq is null then 0.0
                else 0.05 * 0.05 * qv / (0.05 * 0.05 + qv) end as sv
    from recent_shares
),
week_hours as (
    -- each detection hour's share over its clock hour's shape factor, what the same hour of
    -- the week says over the previous 4 weeks (baseline_weekday_weeks), and one
    -- hour's relative count variance c (1 / units + b)
    select distinct store_id, sku, day, how, estimate_var as ev,
           1 / greatest(profile, 1e-9) + coalesce(beta, 0.0) as c,
           -- one week says nothing; of two, the one nearer 1 where both lean the same way;
           -- of three or more, their median
           case when count(wq) over w >= 3 then median(wq) over w
                when count(wq) over w = 2 then
                    case when min(wq) over w > 1 then min(wq) over w
                         when max(wq) over w < 1 then max(wq) over w
                         else 1.0 end
           end as mw,
           count(wq) over w as nw
    from (
        select hs.*, case when hs.day >= cast(settings.detection_start - calendar.shift as date)
                          then hs.q / nullif(sl.sf, 0) end as wq
        from hour_shares hs join shape_levels sl using (store_id, sku, day, hod), settings,
            calendar
        where hs.day >= cast(settings.detection_start - calendar.shift as date) - 2
    )
    window w as (partition by store_id, sku, how order by day
                 range between interval 28 days preceding and interval 1 day preceding)
),
week_hour_levels as (
    -- shrunk towards 1 by the fit's error of the hour (estimate_var x c) against the
    -- median's noise (pi / 2n x c); with three or more weeks, all of the distance the noise
    -- cannot explain too; what remains replaces estimate_var
    select store_id, sku, day, how,
           coalesce(1 + (mw - 1) * k, 1.0) as hf,
           case when mw is null then coalesce(ev, 0.0)
                else k * pi() / (2 * greatest(nw, 1)) end as hev
    from (
        select *, {_shrinkage_weight("pv", "nv", "mw", "nw")} as k
        from (
            select *, coalesce(ev, 0) * c as pv, pi() / (2 * greatest(nw, 1)) * c as nv
            from week_hours
        )
    )
),
hours as (
    select h.* replace (coalesce(hl.hev, h.estimate_var) as estimate_var),
           h.profile * l.lf * coalesce(sl.sf, 1.0) * wl.wf * coalesce(hl.hf, 1.0) as e, l.lv,
           coalesce(sl.sv, 0.0) as sv, wl.wv, coalesce(v.dv, 0.0) as dv
    from scored_days h join day_levels l using (store_id, sku, day)
    join weekday_levels wl using (store_id, sku, day)
    left join shape_levels sl on sl.store_id = h.store_id and sl.sku = h.sku
        and sl.day = h.day and sl.hod = hour(h.baseline_ts)
    left join week_hour_levels hl on hl.store_id = h.store_id and hl.sku = h.sku
        and hl.day = h.day and hl.how = (isodow(h.baseline_ts) - 1) * 24 + hour(h.baseline_ts)
    left join day_var v on v.store_id = h.store_id and v.sku = h.sku, settings
    where h.sales_ts >= settings.detection_start
),
z as (
    -- the floor is baseline_min_spread_units (0.1) squared
    select *,
           e * greatest(1.0, alpha + beta * e) * (1 + coalesce(estimate_var, 0.0))
           + e * e * (dv + wv + lv + sv) + 0.01 as v
    from hours
),
stabilised as (
    select *,
           {_count_z("units", "e", "v", "bb")} as raw_z
    from (select *, greatest(beta, 1e-9) as bb from z)
),
score_days as (
    -- each day's trading hours within |z| <= 2.5 and their squares
    select store_id, sku, day,
           count(*) filter (where abs(raw_z) <= 2.5 and (e > 0 or units > 0)) as n,
           coalesce(sum(raw_z * raw_z) filter (
               where abs(raw_z) <= 2.5 and (e > 0 or units > 0)), 0) as q
    from stabilised group by all
),
score_variances as (
    -- the previous 14 days' (baseline_score_scale_days) mean square over a standard
    -- normal's within |z| <= 2.5
    select store_id, sku, day, sum(n) over w as n,
           sum(q) over w / nullif(sum(n) over w, 0) / 0.9112 as sv
    from score_days
    window w as (partition by store_id, sku order by day
                 range between interval 14 days preceding and interval 1 day preceding)
),
score_spreads as (
    -- tau^2 across the series of each day, beyond the noise 2 / n
    select day, greatest(avg((sv - 1) * (sv - 1)) - avg(2.0 / n), 0.0) as t2
    from score_variances where n > 0 group by day
),
score_scales as (
    select store_id, sku, day,
           greatest(coalesce(1 + (sv - 1) * t2 / nullif(t2 + 2.0 / n, 0), 1.0), 1.0) as ss
    from score_variances left join score_spreads using (day)
)
select h.store_id, h.sku, h.sales_ts, h.e as expected_units,
       h.raw_z / sqrt(s.ss) as residual_z,
       abs(h.raw_z / sqrt(s.ss)) >= 1.5 as is_flagged
from stabilised h join score_scales s using (store_id, sku, day)
where h.e > 0 or h.units > 0
"""


@dataclass(frozen=True)
class DetectionBenchmark:
    sales_rows: int
    generate_seconds: float
    build_seconds: float
    staging_seconds: float
    detection_seconds: float
    model_seconds: dict[str, float]
    reference_seconds: float
    flagged_hours_pipeline: int
    flagged_hours_reference: int
    reports: int

    @property
    def ratio(self) -> float:
        return self.detection_seconds / self.reference_seconds


def run_detection_benchmark(
    stores: int,
    products: int,
    days: int,
    say: Callable[[str], None],
    work_dir: Path | None = None,
) -> DetectionBenchmark:
    with tempfile.TemporaryDirectory(dir=work_dir) as folder:
        root = Path(folder)
        options = WorldOptions(stores=stores, products=products, days=days)
        say(f"generating {stores * products * days * 24:,} sales rows (Parquet)")
        started = time.perf_counter()
        counts = write_world(options, root / "world", "parquet")
        generated = time.perf_counter() - started

        project = Project.locate(root / "bench.duckdb")
        dbt_vars = build_vars(options, root / "world")
        selection = " ".join(f"+{model}" for model in DETECTION_MODELS)
        say("building staging and detection with dbt (tests excluded)")
        started = time.perf_counter()
        code = project.dbt(
            [
                "build",
                "--select",
                selection,
                *WITHOUT_TESTS,
                "--quiet",
                "--write-json",  # node_timings reads run_results.json and manifest.json
                # A private target folder: a build running in the project at the same time
                # cannot overwrite run_results.json before it is read.
                "--target-path",
                str(root / "target"),
                "--log-path",
                str(root / "logs"),
            ],
            dbt_vars,
        )
        built = time.perf_counter() - started
        if code != 0:
            raise RuntimeError("the benchmark build failed; see dbt's output above")
        timings, _ = node_timings(root / "target")
        detection = sum(timings.get(model, 0.0) for model in DETECTION_MODELS)
        staging = sum(t for name, t in timings.items() if name not in DETECTION_MODELS)

        say("running the hand-written reference query")
        with open_database(project.database, read_only=False) as con:
            reference = run_reference(con)
            reports = con.execute(
                "select count(distinct report_id) from minority_reports_detected_log"
            ).fetchone()[0]
        return DetectionBenchmark(
            sales_rows=counts["unified_sales_data"],
            generate_seconds=generated,
            build_seconds=built,
            staging_seconds=staging,
            detection_seconds=detection,
            model_seconds={m: timings.get(m, 0.0) for m in DETECTION_MODELS},
            reference_seconds=reference.seconds,
            flagged_hours_pipeline=reference.flagged_hours_pipeline,
            flagged_hours_reference=reference.flagged_hours_reference,
            reports=reports,
        )


@dataclass(frozen=True)
class ReferenceRun:
    """The hand-written reference query's time, and the elevated hours it and the pipeline's
    `baseline_sales_predictions` flag (they should agree)."""

    seconds: float
    flagged_hours_reference: int
    flagged_hours_pipeline: int


def run_reference(con: duckdb.DuckDBPyConnection) -> ReferenceRun:
    """Time REFERENCE_QUERY on a built database (it reads staging, run_settings and
    baseline_day_start)."""
    started = time.perf_counter()
    con.execute(REFERENCE_QUERY)
    seconds = time.perf_counter() - started
    reference_flags = con.execute(
        "select count(*) from reference_flags where is_flagged"
    ).fetchone()[0]
    pipeline_flags = con.execute(
        "select count(*) from baseline_sales_predictions, run_settings "
        "where is_trading_hour and abs(residual_z) >= 1.5 "
        "and sales_ts >= run_settings.detection_start"
    ).fetchone()[0]
    return ReferenceRun(
        seconds=seconds,
        flagged_hours_reference=int(reference_flags),
        flagged_hours_pipeline=int(pipeline_flags),
    )
