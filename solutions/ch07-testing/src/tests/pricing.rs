//! The discount boundary, at the values where an off-by-one would show.

use crate::pricing::{DISCOUNT_FROM_CENTS, goods_cents, unit_cents};

#[test]
fn goods_just_below_the_threshold_pay_full_price() {
    assert_eq!(goods_cents(DISCOUNT_FROM_CENTS - 1, 1), 9_999);
    assert_eq!(goods_cents(500, 1), 500);
}

#[test]
fn goods_exactly_at_the_threshold_get_ten_percent_off() {
    assert_eq!(goods_cents(1_000, 10), 9_000);
    assert_eq!(goods_cents(DISCOUNT_FROM_CENTS, 1), 9_000);
}

#[test]
fn goods_above_the_threshold_get_ten_percent_off() {
    assert_eq!(goods_cents(4_000, 5), 18_000);
}

#[test]
fn the_largest_order_neither_overflows_nor_loses_its_discount() {
    assert_eq!(goods_cents(u64::MAX, 1), u64::MAX - u64::MAX / 10);
}

#[test]
fn only_catalogue_products_have_a_price() {
    assert_eq!(unit_cents("mug"), Some(1_250));
    assert_eq!(unit_cents("Mug"), None);
}
