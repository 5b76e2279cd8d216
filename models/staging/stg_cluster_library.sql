with

checked as (
    select * from {{ ref('stg_cluster_library_checked') }}
),

accepted as (
    select
        cluster_id,
        cluster_name,
        cause_category,
        curve_p1,
        curve_p2,
        curve_p3,
        curve_p4,
        curve_p5,
        curve_p6,
        curve_p7,
        rise_slope,
        decay_slope,
        peak_position,
        symmetry,
        kurtosis,
        volatility,
        duration,
        direction,
        relative_magnitude,
        tsne_x,
        tsne_y
    from checked
    where error_reason is null
)

select * from accepted
