//! The starter's approach, kept here so the bench can compare against it after
//! you have changed `src/`: a map that keeps every price it has read, where
//! every miss calls the store on its own.

use std::collections::HashMap;
use std::sync::Mutex;

use ch05_caching::{Cents, Sku, Store};

pub struct Catalogue<S> {
    store: S,
    cache: Mutex<HashMap<Sku, Option<Cents>>>,
}

impl<S: Store> Catalogue<S> {
    pub fn new(store: S) -> Self {
        Self {
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn price(&self, sku: Sku) -> Option<Cents> {
        let cached = self.cache.lock().unwrap().get(&sku).copied();
        if let Some(price) = cached {
            return price;
        }
        let price = self.store.get(sku).await;
        self.cache.lock().unwrap().insert(sku, price);
        price
    }
}
