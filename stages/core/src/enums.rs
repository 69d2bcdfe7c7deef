//! Small `#[repr(u8)]` enums carried inside events, each with its stable wire name.

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $var:ident = $val:literal => $wire:literal,)+ }) => {
        $(#[$doc])*
        #[repr(u8)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $var = $val,)+
        }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$var,)+];

            /// The stable wire name.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$var => $wire,)+
                }
            }

            /// Looks a value up by its wire name.
            pub fn from_name(s: &str) -> Option<$name> {
                match s {
                    $($wire => Some($name::$var),)+
                    _ => None,
                }
            }

            /// The stable numeric code.
            pub const fn code(self) -> u8 {
                self as u8
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

wire_enum!(
    /// Order side.
    Side {
        /// Long / buy.
        Buy = 0 => "BUY",
        /// Short / sell.
        Sell = 1 => "SELL",
    }
);

impl Side {
    /// The other side (the side of the order that closes a position).
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// +1 for buy, -1 for sell.
    pub const fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
}

wire_enum!(
    /// A signal's timeframe (the horizon the model predicts for).
    Timeframe {
        /// One minute.
        M1 = 0 => "1m",
        /// Five minutes.
        M5 = 1 => "5m",
        /// Fifteen minutes.
        M15 = 2 => "15m",
        /// Thirty minutes.
        M30 = 3 => "30m",
        /// One hour.
        H1 = 4 => "1h",
        /// Four hours.
        H4 = 5 => "4h",
        /// One day.
        D1 = 6 => "1d",
    }
);

impl Timeframe {
    /// The timeframe's length in seconds.
    pub const fn seconds(self) -> u64 {
        match self {
            Timeframe::M1 => 60,
            Timeframe::M5 => 300,
            Timeframe::M15 => 900,
            Timeframe::M30 => 1800,
            Timeframe::H1 => 3600,
            Timeframe::H4 => 14_400,
            Timeframe::D1 => 86_400,
        }
    }
}

wire_enum!(
    /// Why a position was closed.
    ExitReason {
        /// Take-profit price reached.
        TakeProfit = 0 => "TP",
        /// Stop-loss price reached.
        StopLoss = 1 => "SL",
        /// Maximum holding time elapsed.
        MaxHold = 2 => "TIME",
        /// The kill switch flattened the book.
        KillSwitch = 3 => "KILL_SWITCH",
        /// The run ended and open positions were flattened.
        Shutdown = 4 => "SHUTDOWN",
        /// An operator closed it.
        Manual = 5 => "MANUAL",
    }
);

wire_enum!(
    /// The market regime a position lived in (from the position stage's trend filter).
    MarketCondition {
        /// Short trend above long trend.
        Bullish = 0 => "BULLISH",
        /// Short trend below long trend.
        Bearish = 1 => "BEARISH",
        /// Neither.
        Sideways = 2 => "SIDEWAYS",
    }
);

wire_enum!(
    /// Why RiskGuard (or the venue) denied a signal. Codes are stable: never renumber.
    DenialCode {
        /// The kill switch is HALTED.
        KillSwitchHalted = 1 => "KILL_SWITCH_HALTED",
        /// The kill switch is REDUCING: only risk-reducing orders.
        TradingReducing = 2 => "TRADING_REDUCING",
        /// Confidence below the profile's minimum.
        LowConfidence = 3 => "LOW_CONFIDENCE",
        /// The signal is older than its timeframe allows.
        StaleSignal = 4 => "STALE_SIGNAL",
        /// The signal's timestamp is in the future beyond tolerance.
        FutureSignal = 5 => "FUTURE_SIGNAL",
        /// A signal with this trace id was already seen.
        DuplicateTraceId = 6 => "DUPLICATE_TRACE_ID",
        /// The model version is not allowed to trade.
        ModelNotAllowed = 7 => "MODEL_NOT_ALLOWED",
        /// The order's notional exceeds the per-order maximum.
        MaxNotional = 8 => "MAX_NOTIONAL",
        /// The leverage exceeds the hard maximum.
        MaxLeverage = 9 => "MAX_LEVERAGE",
        /// Too many open positions in total.
        MaxPositionsTotal = 10 => "MAX_POSITIONS_TOTAL",
        /// Too many open positions on this symbol.
        MaxPositionsSymbol = 11 => "MAX_POSITIONS_SYMBOL",
        /// Exposure on this symbol would exceed its limit.
        MaxExposureSymbol = 12 => "MAX_EXPOSURE_SYMBOL",
        /// Total exposure would exceed its limit.
        MaxExposureTotal = 13 => "MAX_EXPOSURE_TOTAL",
        /// No reference price yet for the symbol.
        PriceMissing = 14 => "PRICE_MISSING",
        /// The reference price is too old.
        PriceStale = 15 => "PRICE_STALE",
        /// The reference price is outside the collar around its moving average.
        PriceCollar = 16 => "PRICE_COLLAR",
        /// The order-rate throttle is exhausted.
        OrderRate = 17 => "ORDER_RATE",
        /// The daily realized loss limit is reached.
        DailyLossLimit = 18 => "DAILY_LOSS_LIMIT",
        /// The equity drawdown limit is reached.
        DrawdownLimit = 19 => "DRAWDOWN_LIMIT",
        /// The quantity rounds to zero at the symbol's step size.
        FilterMinQty = 20 => "FILTER_MIN_QTY",
        /// The notional is below the symbol's minimum.
        FilterMinNotional = 21 => "FILTER_MIN_NOTIONAL",
        /// Sizing produced no size (zero balance or multiplier).
        ZeroSize = 22 => "ZERO_SIZE",
        /// The venue rejected the order.
        VenueRejected = 23 => "VENUE_REJECTED",
        /// The kill switch tripped between risk and the venue; the gateway refused the order.
        GatewayHalted = 24 => "GATEWAY_HALTED",
    }
);

wire_enum!(
    /// Severity of a `risk.alert`.
    Severity {
        /// Logged.
        Low = 0 => "LOW",
        /// Logged.
        Medium = 1 => "MEDIUM",
        /// Kill switch to REDUCING, operator notified.
        High = 2 => "HIGH",
        /// Kill switch to HALTED.
        Critical = 3 => "CRITICAL",
    }
);

wire_enum!(
    /// What a `risk.alert` is about.
    AlertType {
        /// Equity drawdown beyond the hard limit.
        MaxDrawdownBreached = 0 => "MAX_DRAWDOWN_BREACHED",
        /// Equity drawdown beyond the warning level.
        DrawdownWarning = 1 => "DRAWDOWN_WARNING",
        /// Open exposure beyond the monitor's limit.
        ExposureLimit = 2 => "EXPOSURE_LIMIT",
        /// Sustained error rate.
        ErrorRate = 3 => "ERROR_RATE",
        /// A trading ring stayed full.
        Backpressure = 4 => "RING_BACKPRESSURE",
        /// A model's live performance degraded; retraining requested.
        ModelDegraded = 5 => "MODEL_DEGRADED",
        /// Raised by an operator.
        Operator = 6 => "OPERATOR",
        /// Daily realized loss beyond the limit.
        DailyLossBreached = 7 => "DAILY_LOSS_BREACHED",
        /// A non-recoverable error.
        FatalError = 8 => "FATAL_ERROR",
    }
);

wire_enum!(
    /// The action taken on an alert.
    AlertAction {
        /// Nothing beyond recording it.
        None = 0 => "NONE",
        /// Logged for analysis.
        Logged = 1 => "LOGGED",
        /// Operator notified, new positions stopped (REDUCING).
        ReduceOnly = 2 => "REDUCE_ONLY",
        /// Kill switch HALTED.
        EmergencyStop = 3 => "EMERGENCY_STOP",
        /// Model retraining requested.
        RetrainRequested = 4 => "RETRAIN_REQUESTED",
    }
);

wire_enum!(
    /// The kind of a `system.event_error`. Codes are stable: never renumber.
    ErrorCode {
        /// Not valid JSON.
        JsonSyntax = 0 => "JSON_SYNTAX",
        /// A field has the wrong type.
        JsonType = 1 => "JSON_TYPE",
        /// An unknown field.
        UnknownField = 2 => "UNKNOWN_FIELD",
        /// A required field is missing.
        MissingField = 3 => "MISSING_FIELD",
        /// The symbol is not configured.
        UnknownSymbol = 4 => "UNKNOWN_SYMBOL",
        /// Side is not BUY or SELL.
        InvalidSide = 5 => "INVALID_SIDE",
        /// Confidence outside 0..=1 or not finite.
        ConfidenceRange = 6 => "CONFIDENCE_RANGE",
        /// Timeframe not known.
        UnknownTimeframe = 7 => "UNKNOWN_TIMEFRAME",
        /// Model version not usable as a model name (1-32 characters of `A-Za-z0-9_.-`). A new,
        /// valid name is registered on first sight, not refused.
        UnknownModel = 8 => "UNKNOWN_MODEL",
        /// Trace id empty, too long or not printable ASCII.
        InvalidTraceId = 9 => "INVALID_TRACE_ID",
        /// Line or frame above the size limit.
        Oversized = 10 => "OVERSIZED",
        /// Bytes that are not UTF-8.
        InvalidUtf8 = 11 => "INVALID_UTF8",
        /// Timestamp not a finite non-negative number.
        InvalidTimestamp = 12 => "INVALID_TIMESTAMP",
        /// Empty input.
        EmptyInput = 13 => "EMPTY_INPUT",
        /// The venue rejected an order.
        OrderRejected = 14 => "ORDER_REJECTED",
        /// An I/O error at a source or sink.
        Io = 15 => "IO_ERROR",
        /// A trading ring stayed full.
        RingFull = 16 => "RING_FULL",
        /// An exit fill for a position that is not open.
        UnknownPosition = 17 => "UNKNOWN_POSITION",
        /// The position table is full.
        PositionTableFull = 18 => "POSITION_TABLE_FULL",
        /// A trace id the source saw recently (refused at a network or Redis source).
        DuplicateTraceId = 19 => "DUPLICATE_TRACE_ID",
        /// A client sent faster than its connection's rate limit.
        RateLimited = 20 => "RATE_LIMITED",
        /// A field given twice in one document.
        DuplicateField = 21 => "DUPLICATE_FIELD",
        /// A client broke its transport's protocol (WebSocket: unmasked frame, reserved
        /// opcode, …); the connection is closed.
        ProtocolViolation = 22 => "PROTOCOL_VIOLATION",
        /// A client did not read its answers: its outbound buffer filled and it was disconnected.
        SlowClient = 23 => "SLOW_CLIENT",
        /// A new model version, and the model registry is full (`[ingress] max_models`).
        ModelRegistryFull = 24 => "MODEL_REGISTRY_FULL",
    }
);

impl ErrorCode {
    /// Whether the pipeline carries on normally after this error.
    pub const fn is_recoverable(self) -> bool {
        !matches!(self, ErrorCode::PositionTableFull | ErrorCode::UnknownPosition)
    }
}

wire_enum!(
    /// The kill switch's state.
    TradingState {
        /// Trading normally.
        Active = 0 => "ACTIVE",
        /// Only risk-reducing orders (exits).
        Reducing = 1 => "REDUCING",
        /// No new orders.
        Halted = 2 => "HALTED",
    }
);

wire_enum!(
    /// What a policy update changes in the risk stage.
    PolicyKind {
        /// Sizing multiplier for a model (learning: RL sizing agent).
        SizingMultiplier = 0 => "SIZING_MULTIPLIER",
        /// Weight of a model (learning: meta-strategy agent).
        ModelWeight = 1 => "MODEL_WEIGHT",
        /// Allow (value 1) or disallow (value 0) a model (supervisor, CLM).
        ModelAllowed = 2 => "MODEL_ALLOWED",
        /// Switch the active risk profile to `profile`.
        ActiveProfile = 3 => "ACTIVE_PROFILE",
        /// Leverage multiplier for a model (learning: RL sizing agent).
        LeverageMultiplier = 4 => "LEVERAGE_MULTIPLIER",
    }
);

wire_enum!(
    /// A command to the position and gateway stages from control.
    CommandKind {
        /// Close every open position (kill switch with flatten, or operator).
        FlattenAll = 0 => "FLATTEN_ALL",
        /// Cancel every working (unfilled) order.
        CancelAll = 1 => "CANCEL_ALL",
    }
);
