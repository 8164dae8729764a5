//! The HTTP face of the service (axum).
//!
//! - `POST /orders` with `{"customer", "sku", "quantity"}`: 201 and the order;
//!   400 for an invalid order; 500 when it could not be stored.
//! - `GET /customers/{customer}/orders`: 200 and the open orders.
//! - `POST /orders/{id}/cancel`: 204, or 404 for no such order.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::service::{OrderError, OrderService};

#[derive(Debug, Deserialize)]
pub struct NewOrder {
    pub customer: String,
    pub sku: String,
    pub quantity: u32,
}

/// The service's routes.
pub fn router(service: Arc<OrderService>) -> Router {
    Router::new()
        .route("/orders", post(place))
        .route("/customers/{customer}/orders", get(open_orders))
        .route("/orders/{id}/cancel", post(cancel))
        .with_state(service)
}

/// Serves `router` on 127.0.0.1 at a port the system picks; returns the
/// address. The server runs until the runtime stops.
pub async fn serve(router: Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(addr)
}

async fn place(
    State(service): State<Arc<OrderService>>,
    Json(new): Json<NewOrder>,
) -> Response {
    match service.place(&new.customer, &new.sku, new.quantity).await {
        Ok(order) => (StatusCode::CREATED, Json(order)).into_response(),
        Err(e) => error_response(e),
    }
}

async fn open_orders(
    State(service): State<Arc<OrderService>>,
    Path(customer): Path<String>,
) -> Response {
    match service.open_orders_of(&customer) {
        Ok(orders) => Json(orders).into_response(),
        Err(e) => error_response(e),
    }
}

async fn cancel(
    State(service): State<Arc<OrderService>>,
    Path(id): Path<i64>,
) -> Response {
    match service.cancel(id) {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => error_response(e),
    }
}

fn error_response(e: OrderError) -> Response {
    let status = match &e {
        // The client asked for something we cannot do: their fault.
        OrderError::InvalidQuantity(_) | OrderError::UnknownProduct(_) => {
            StatusCode::BAD_REQUEST
        }
        // Ours.
        OrderError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, format!("{e:?}")).into_response()
}
