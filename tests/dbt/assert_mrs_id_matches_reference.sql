-- The id macro must give the ids of DESIGN.md section 3: prefix || first n hex of
-- md5(parts joined by '|'), a null part hashing as ''. Expected values were computed
-- independently with Python's hashlib (tests/python/test_ids.py recomputes them).
with

cases as (
    select
        {{ mrs_id('MR-', ["'ST-001'", "'SKU-001'", "timestamp '2025-08-07 09:00:00'"]) }}
            as actual_id,
        'MR-435fdeb54290' as expected_id
    union all
    select
        {{ mrs_id('ME-', ["'MR-abc'", "timestamp '2025-08-07 09:00:00'"]) }} as actual_id,
        'ME-a79f3da669c2' as expected_id
    union all
    select
        {{ mrs_id('MR-', ["'ST-001'", "cast(null as varchar)", "'2025-08-07 09:00:00'"]) }}
            as actual_id,
        'MR-2efb90c66c44' as expected_id
    union all
    select
        {{ mrs_id('', ["'a'", "'b'"], length=32) }} as actual_id,
        'd0726241020676b14aa6298ce6a18b21' as expected_id
),

mismatches as (
    select
        actual_id,
        expected_id
    from cases
    where actual_id != expected_id
)

select * from mismatches
