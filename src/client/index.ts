// The public surface of `switchyard/client`: named exports only, types as types.
export type { BackoffConfig, Ordering, RetentionConfig } from "../core/config.js";
export type { ErrorCode, FieldError } from "../core/errors.js";
export { SwitchyardError } from "../core/errors.js";
export type { CloudEvent, StoredEvent } from "../core/event.js";
export type { Filter } from "../core/filter.js";
export type { StartPosition } from "../core/positions.js";
export type {
  Admin,
  AttemptsOptions,
  KeysAdmin,
  PullOptions,
  ReadOptions,
  SeekTarget,
  SubscriptionsAdmin,
  TopicsAdmin,
} from "./admin.js";
export type {
  Aggregate,
  AggregateOptions,
  DecideContext,
  Decision,
  Folded,
  HandleResult,
  SnapshotOptions,
} from "./aggregate.js";
export type {
  BatchOptions,
  ClientOptions,
  SubjectPage,
  SubjectReadOptions,
  SwitchyardClient,
} from "./client.js";
export { createClient } from "./client.js";
export type { Delivery, DeliveryPublish } from "./delivery.js";
export type { Problem } from "./errors.js";
export { Reject, RetryAfter, SwitchyardClientError } from "./errors.js";
export type {
  AnyEvents,
  DeliveryOf,
  EventInputOf,
  PublishFunction,
  SubscribeFunction,
  TypedEventInput,
  TypedPublish,
  TypedSubscribe,
  UntypedPublish,
  UntypedSubscribe,
} from "./event-map.js";
export type { Fetch } from "./http.js";
export type {
  Inbox,
  InboxEvent,
  InboxOptions,
  InboxResult,
  PgPoolClientLike,
  PgPoolLike,
} from "./inbox.js";
export { inbox } from "./inbox.js";
export type { Outbox, OutboxEvent, OutboxOptions } from "./outbox.js";
export { createOutbox, outbox } from "./outbox.js";
export type {
  Projection,
  ProjectionHandler,
  ProjectionOptions,
  ProjectionStatus,
  ProjectionSubscription,
  RebuildOptions,
  RebuildProgress,
} from "./projection.js";
export { projection } from "./projection.js";
export type { PgProjectionTx } from "./projection-pg.js";
export { pgProjectionStore } from "./projection-pg.js";
export type { SqliteProjectionTx } from "./projection-sqlite.js";
export { sqliteProjectionStore } from "./projection-sqlite.js";
export type {
  ProjectionStore,
  ProjectionStoreOptions,
  ProjectionTables,
  StoreInternals,
} from "./projection-store.js";
export type { PublishResult } from "./publish-sender.js";
export type { EventAttributes, EventInput, PublishOptions } from "./publisher.js";
export type {
  ApiKey,
  AsyncApiDocument,
  CreatedApiKey,
  Flow,
  IndexState,
  KeySelf,
  KeySettings,
  LogPage,
  PulledDelivery,
  PushAttempt,
  PushHealth,
  PushSettings,
  RedriveRequest,
  RedriveStarted,
  RedriveStatus,
  RouterInfo,
  SettleResult,
  SettleStatus,
  StoredEventOf,
  Subscription,
  SubscriptionSettings,
  SubscriptionStats,
  Topic,
  TopicIndex,
  TopicSettings,
  TopicStats,
} from "./resources.js";
export type { RetryPolicy } from "./retry.js";
export type {
  CompatibilityMode,
  InferOptions,
  JsonSchema,
  SchemaCheck,
  SchemaConfig,
  SchemaDetails,
  SchemaProposal,
  SchemaRegistered,
  SchemaSummary,
  SchemasAdmin,
  SchemaVersion,
} from "./schemas-admin.js";
export type { Snapshot, SnapshotStore, SnapshotStoreOptions } from "./snapshot-store.js";
export { pgSnapshotStore, sqliteSnapshotStore } from "./snapshot-store.js";
export type { PgQueryable } from "./sql-names.js";
export type { Handler, SubscribeOptions, Subscriber } from "./subscriber.js";
export type { CertificateAuthority } from "./tls.js";
export type { VerifiedWebhook, VerifyWebhookOptions, WebhookHeaders } from "./verify-webhook.js";
export { verifyWebhook } from "./verify-webhook.js";
