package dev.txkv.remote;

import static java.nio.charset.StandardCharsets.UTF_8;
import static dev.txkv.remote.AuthClients.assertCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.MutationType;
import dev.txkv.idempotency.IdempotencyKeys;
import dev.txkv.directory.DirectoryLayer;
import dev.txkv.directory.DirectorySubspace;
import dev.txkv.lease.FencingException;
import dev.txkv.lease.Lease;
import dev.txkv.lease.LeaseManager;
import dev.txkv.outbox.ChangeFeed;
import dev.txkv.outbox.Consumer;
import dev.txkv.outbox.Event;
import dev.txkv.outbox.Outbox;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.Permission;
import dev.txkv.proto.RoleChange;
import dev.txkv.proto.UserAdd;
import dev.txkv.queue.Message;
import dev.txkv.queue.Queue;
import dev.txkv.queue.QueueConfig;
import dev.txkv.saga.PermanentStepFailure;
import dev.txkv.saga.Saga;
import dev.txkv.saga.SagaDefinition;
import dev.txkv.saga.SagaRunner;
import dev.txkv.saga.SagaStatus;
import dev.txkv.saga.Step;
import dev.txkv.server.ServerConfig;
import dev.txkv.server.TxkvServer;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The microservices toolkit under authorization, one credential per service, each limited to
 * its own prefix plus what it must share (docs/toolkit.md, "With authorization"):
 *
 * <ul>
 *   <li>{@code orders}: state, an {@link Outbox}, a {@link LeaseManager} and
 *       {@link IdempotencyKeys}, all under {@code ("orders")};</li>
 *   <li>{@code payments}: consumes the outbox as consumer {@code "payments"} and enqueues into
 *       the shared {@link Queue} under {@code ("jobs")}; its own state under {@code ("payments")};</li>
 *   <li>{@code inventory}: the queue's worker, with a lease, idempotency keys and a
 *       {@link SagaRunner} under {@code ("inventory")}.</li>
 * </ul>
 *
 * Every grant is derived from the layers' subspaces (by their documented key layouts: the
 * layers do not expose their inner ranges) and is as narrow as the layers' code allows; the
 * flow runs end to end and every step outside the grants gets 6000. Each grant is needed:
 * dropping any one, or narrowing a readwrite one to read or write, fails the flow with 6000
 * on the key the layer touches there.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ToolkitAuthTest {
    private static final String ROOT_PASSWORD = "root password 1";
    private static final String ORDERS_PASSWORD = "orders password 1";
    private static final String PAYMENTS_PASSWORD = "payments password 1";
    private static final String INVENTORY_PASSWORD = "inventory password 1";

    // --- the services' subspaces --------------------------------------------------------------

    private static final Subspace ORDERS = new Subspace(Tuple.from("orders"));
    private static final Subspace ORDER_STATE = ORDERS.get("state");
    private static final Subspace ORDER_EVENTS = new Subspace(Tuple.from("orders", "events"));
    private static final Subspace ORDER_LEASES = ORDERS.get("leases");
    private static final Subspace ORDER_REQUESTS = ORDERS.get("requests");

    private static final Subspace PAYMENTS = new Subspace(Tuple.from("payments"));
    private static final Subspace PAYMENT_CHARGES = PAYMENTS.get("charges");
    private static final Subspace PAYMENT_DONE = PAYMENTS.get("done");

    private static final Subspace JOBS = new Subspace(Tuple.from("jobs"));

    private static final Subspace INVENTORY = new Subspace(Tuple.from("inventory"));
    private static final Subspace INVENTORY_STOCK = INVENTORY.get("stock");
    private static final Subspace INVENTORY_LEASES = INVENTORY.get("leases");
    private static final Subspace INVENTORY_DONE = INVENTORY.get("done");
    private static final Subspace INVENTORY_SAGAS = INVENTORY.get("sagas");

    // --- the shared parts, by the layers' key layouts (docs/toolkit.md) ------------------------

    /** Outbox: {@code O + (0, vs)} events. */
    private static final Subspace OUTBOX_EVENTS = ORDER_EVENTS.get(0L);
    /** Outbox: {@code O + (1)}, the newest event's stamp: the watch key. */
    private static final byte[] OUTBOX_LAST = ORDER_EVENTS.pack(Tuple.from(1L));

    /** Outbox: {@code O + (2, consumer)}, one consumer's cursor. */
    private static byte[] cursorKey(String consumer) {
        return ORDER_EVENTS.pack(Tuple.from(2L, consumer));
    }

    /** Queue: {@code Q + (0, partition, priority, visibleAtMs, vs)} items. */
    private static final Subspace QUEUE_ITEMS = JOBS.get(0L);
    /** Queue: {@code Q + (1, partition)} partition markers. */
    private static final Subspace QUEUE_PARTITIONS = JOBS.get(1L);
    /** Queue: {@code Q + (2, partition, vs)} dead letters. */
    private static final Subspace QUEUE_DEAD = JOBS.get(2L);

    private static final String SKU = "sku-1";
    private static final String WAREHOUSE = "warehouse-1";

    @TempDir
    static Path dir;
    private static TxkvServer server;
    private static String address;
    private static AuthClients clients;

    private static Database orders;
    private static Database payments;
    private static Database inventory;

    private static final Clock clock = Clock.systemUTC();
    private static final Outbox outbox = new Outbox(ORDER_EVENTS, clock);
    private static final LeaseManager orderLeases = new LeaseManager(ORDER_LEASES, clock);
    private static final IdempotencyKeys orderRequests = new IdempotencyKeys(ORDER_REQUESTS, clock,
            Duration.ofHours(1), Duration.ofMinutes(10));
    private static final IdempotencyKeys paymentsDone = new IdempotencyKeys(PAYMENT_DONE, clock,
            Duration.ofHours(1), Duration.ofMinutes(10));
    private static final IdempotencyKeys inventoryDone = new IdempotencyKeys(INVENTORY_DONE, clock,
            Duration.ofHours(1), Duration.ofMinutes(10));
    private static final LeaseManager inventoryLeases = new LeaseManager(INVENTORY_LEASES, clock);
    private static final Queue jobs = new Queue(JOBS, new QueueConfig().visibilityTimeout(Duration.ofSeconds(10))
            .maxAttempts(3).backoff(Duration.ofMillis(50), Duration.ofSeconds(1)));

    @BeforeAll
    static void start() throws Exception {
        server = TxkvServer.start(new ServerConfig().dataDir(dir.resolve("d")).grpcAddress("127.0.0.1", 0)
                .httpAddress("127.0.0.1", 0));
        address = "127.0.0.1:" + server.grpcPort();
        clients = new AuthClients(address, ROOT_PASSWORD);
        change(ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName("root")
                .setPassword(ROOT_PASSWORD).addRoles("root")));

        // orders: everything under ("orders"): state, outbox, leases, idempotency keys.
        role("orders");
        grant("orders", Permission.Mode.READWRITE, prefix(ORDERS));

        // payments: its own prefix; the change feed's reading side as consumer "payments"; the
        // queue's producing side.
        role("payments");
        grant("payments", Permission.Mode.READWRITE, prefix(PAYMENTS));
        grant("payments", Permission.Mode.READ, prefix(OUTBOX_EVENTS));        // Outbox.read: the events
        grant("payments", Permission.Mode.READ, key(OUTBOX_LAST));             // lastPosition, the watch
        grant("payments", Permission.Mode.READWRITE, key(cursorKey("payments"))); // its cursor only
        grant("payments", Permission.Mode.WRITE, prefix(QUEUE_ITEMS));         // enqueue: versionstamped item
        grant("payments", Permission.Mode.WRITE, prefix(QUEUE_PARTITIONS));    // enqueue: partition marker

        // inventory: its own prefix; the queue's working side.
        role("inventory");
        grant("inventory", Permission.Mode.READWRITE, prefix(INVENTORY));
        grant("inventory", Permission.Mode.READWRITE, prefix(QUEUE_ITEMS));      // dequeue, ack, nack, extend
        grant("inventory", Permission.Mode.READWRITE, prefix(QUEUE_PARTITIONS)); // round-robin list, empty partitions dropped
        grant("inventory", Permission.Mode.WRITE, prefix(QUEUE_DEAD));           // dead-lettering by nack or dequeue

        user("orders", ORDERS_PASSWORD);
        user("payments", PAYMENTS_PASSWORD);
        user("inventory", INVENTORY_PASSWORD);
        // Stock to sell, set up while authorization is still off.
        open(null, null).run(tr -> {
            tr.set(INVENTORY_STOCK.pack(Tuple.from(SKU)), le(100));
            return null;
        });
        change(ChangeAuthRequest.newBuilder().setSetEnabled(true));
        clients.enabled();
        orders = open("orders", ORDERS_PASSWORD);
        payments = open("payments", PAYMENTS_PASSWORD);
        inventory = open("inventory", INVENTORY_PASSWORD);
    }

    @AfterAll
    static void stop() {
        if (clients != null) {
            clients.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Order(1)
    void ordersPaymentsAndInventoryRunEndToEndEachUnderItsOwnCredential() throws Exception {
        // --- orders: a singleton relay lease with fencing; each order's state, event and
        // idempotency record commit together.
        Lease relay = orderLeases.tryAcquire(orders, "relay", "orders-1", Duration.ofSeconds(30)).orElseThrow();
        assertThat(orderLeases.tryAcquire(orders, "relay", "orders-2", Duration.ofSeconds(30))).isEmpty();
        for (int i = 1; i <= 3; i++) {
            assertThat(placeOrder(relay, i).replayed()).isFalse();
        }
        // A retried request is answered from the record: no second event.
        IdempotencyKeys.Result again = placeOrder(relay, 1);
        assertThat(again.replayed()).isTrue();
        assertThat(new String(again.response(), UTF_8)).isEqualTo("accepted order-1");
        assertThat(events()).hasSize(3);

        // --- payments: consumer "payments". Registering a new consumer reads every cursor
        // (ChangeFeed.consumer counts them against CONSUMERS_MAX), which its grant does not
        // allow; the outbox's owner registers it, after which the consumer needs its cursor only.
        ChangeFeed paymentsFeed = new ChangeFeed(payments, outbox);
        assertCode(() -> paymentsFeed.consumer("payments"), ErrorCode.PERMISSION_DENIED);
        new ChangeFeed(orders, outbox).consumer("payments");
        Consumer consumer = paymentsFeed.consumer("payments");
        int handled = 0;
        for (int round = 0; round < 20 && handled < 3; round++) {
            handled += consumer.handleOrWait(10, Duration.ofMillis(500), ToolkitAuthTest::charge);
        }
        assertThat(handled).isEqualTo(3);

        // The watch in handleOrWait works under the grant: with nothing pending it sleeps on the
        // last-event key and wakes when orders publishes, long before its timeout.
        CompletableFuture<Void> watch = payments.run(tr -> tr.watch(OUTBOX_LAST));
        long started = System.nanoTime();
        CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return consumer.handleOrWait(10, Duration.ofSeconds(8), ToolkitAuthTest::charge);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(500);
        assertThat(waiting).isNotDone();
        assertThat(watch).isNotDone();
        placeOrder(relay, 4);
        watch.get(5, TimeUnit.SECONDS);
        assertThat(waiting.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(6));
        assertThat(consumer.cursor().position())
                .isEqualTo(orders.read(tr -> outbox.lastPosition(tr).join()));
        // Each event charged once, and one job per order.
        List<dev.txkv.KeyValue> charges = payments.read(tr -> tr.getRange(PAYMENT_CHARGES.range()).asList().join());
        assertThat(charges).hasSize(4);
        // The outbox's owner trims what every consumer has passed.
        assertThat(new ChangeFeed(orders, outbox).trim()).isPresent();
        assertThat(events()).isEmpty();

        // --- inventory: the queue's worker, fenced by its own lease; each job's effect, its
        // idempotency record, the saga's start and the ack commit together.
        Set<String> reserved = ConcurrentHashMap.newKeySet();
        Set<String> released = ConcurrentHashMap.newKeySet();
        Set<String> shipped = ConcurrentHashMap.newKeySet();
        SagaDefinition ship = SagaDefinition.of("ship",
                Step.of("reserve", ctx -> {
                    reserved.add(ctx.idempotencyKey());
                    return b("reserved");
                }, (ctx, out) -> released.add(ctx.idempotencyKey())).withTimeout(Duration.ofSeconds(2)),
                Step.of("book-carrier", ctx -> {
                    if (new String(ctx.input(), UTF_8).equals("order-2")) {
                        throw new PermanentStepFailure("no carrier for order-2");
                    }
                    shipped.add(ctx.sagaId());
                    return b("booked");
                }, null).withTimeout(Duration.ofSeconds(2)));
        Lease worker = inventoryLeases.tryAcquire(inventory, "worker", "inventory-1", Duration.ofSeconds(30))
                .orElseThrow();
        try (SagaRunner runner = new SagaRunner(inventory, INVENTORY_SAGAS, List.of(ship), "inventory-1", clock,
                Duration.ofSeconds(10))) {
            int processed = 0;
            for (int round = 0; round < 100 && processed < 4; round++) {
                Optional<Message> next = jobs.dequeue(inventory);
                if (next.isEmpty()) {
                    Thread.sleep(20);
                    continue;
                }
                Message m = next.get();
                String orderId = new String(m.payload(), UTF_8);
                inventory.run(tr -> {
                    inventoryLeases.checkFence(tr, worker);
                    inventoryDone.execute(tr, "job-" + hex(m.id().getBytes()), t -> {
                        t.mutate(MutationType.ADD, INVENTORY_STOCK.pack(Tuple.from(SKU)), le(-1));
                        runner.start(t, "ship-" + orderId, "ship", b(orderId));
                        return null;
                    });
                    jobs.ack(tr, m.lease());
                    return null;
                });
                processed++;
            }
            assertThat(processed).isEqualTo(4);
            long left = inventory.read(tr -> jobs.size(tr, WAREHOUSE));
            assertThat(left).isZero();
            assertThat(jobs.dequeue(inventory)).isEmpty();

            // A job the worker cannot process: nacked until it is dead-lettered (maxAttempts 3),
            // which writes Q + (2, ...): the worker's write-only grant there.
            payments.run(tr -> {
                jobs.enqueue(tr, WAREHOUSE, b("poison"));
                return null;
            });
            int nacks = 0;
            for (int round = 0; round < 100 && nacks < 3; round++) {
                Optional<Message> next = jobs.dequeue(inventory);
                if (next.isEmpty()) {
                    Thread.sleep(20);
                    continue;
                }
                assertThat(next.get().payload()).isEqualTo(b("poison"));
                jobs.nack(inventory, next.get().lease(), "cannot process poison");
                nacks++;
            }
            assertThat(nacks).isEqualTo(3);
            assertThat(jobs.deadLetters(open("root", ROOT_PASSWORD), WAREHOUSE, 10))
                    .singleElement().satisfies(d -> assertThat(d.lastError()).isEqualTo("cannot process poison"));

            List<String> sagaIds = List.of("ship-order-1", "ship-order-2", "ship-order-3", "ship-order-4");
            for (int round = 0; round < 100 && !allFinished(runner, sagaIds); round++) {
                if (runner.runOnce() == 0) {
                    Thread.sleep(20);
                }
            }
            for (String id : sagaIds) {
                Saga saga = runner.get(id).orElseThrow();
                assertThat(saga.status()).as(id).isEqualTo(id.equals("ship-order-2") ? SagaStatus.FAILED
                        : SagaStatus.COMPLETED);
            }
        }
        assertThat(shipped).containsExactlyInAnyOrder("ship-order-1", "ship-order-3", "ship-order-4");
        assertThat(reserved).hasSize(4);
        assertThat(released).containsExactly("ship-order-2/0");
        long stock = inventory.read(tr -> ByteBuffer.wrap(tr.get(INVENTORY_STOCK.pack(Tuple.from(SKU))).join())
                .order(ByteOrder.LITTLE_ENDIAN).getLong());
        assertThat(stock).isEqualTo(96);

        // Fencing still bites under authorization: after a takeover the old holder's write fails.
        orderLeases.release(orders, relay);
        Lease taken = orderLeases.tryAcquire(orders, "relay", "orders-2", Duration.ofSeconds(30)).orElseThrow();
        assertThat(taken.fencingToken()).isGreaterThan(relay.fencingToken());
        assertThatThrownBy(() -> placeOrder(relay, 5)).isInstanceOf(FencingException.class);
    }

    @Test
    @Order(2)
    void eachServiceIsRefusedEverythingOutsideItsGrants() {
        // payments cannot publish into orders' outbox, even beside a write of its own: nothing applies.
        byte[] own = PAYMENTS.pack(Tuple.from("beside-a-forged-event"));
        assertCode(() -> payments.run(tr -> {
            tr.set(own, b("x"));
            outbox.publish(tr, "order-99", "order-placed", b("forged"));
            return null;
        }), ErrorCode.PERMISSION_DENIED);
        byte[] nothing = payments.read(tr -> tr.get(own).join());
        assertThat(nothing).isNull();
        // Nor write (or read) orders' state, nor touch its lease or idempotency records.
        assertCode(() -> payments.run(tr -> {
            tr.set(ORDER_STATE.pack(Tuple.from("order-99")), b("placed"));
            return null;
        }), ErrorCode.PERMISSION_DENIED);
        assertCode(() -> payments.read(tr -> tr.get(ORDER_STATE.pack(Tuple.from("order-1"))).join()),
                ErrorCode.PERMISSION_DENIED);
        assertCode(() -> orderLeases.tryAcquire(payments, "relay", "payments", Duration.ofSeconds(5)),
                ErrorCode.PERMISSION_DENIED);
        assertCode(() -> orderRequests.execute(payments, "place-1", tr -> null), ErrorCode.PERMISSION_DENIED);

        // inventory cannot read orders' state, its outbox, or a range that crosses into it.
        assertCode(() -> inventory.read(tr -> tr.get(ORDER_STATE.pack(Tuple.from("order-1"))).join()),
                ErrorCode.PERMISSION_DENIED);
        assertCode(() -> inventory.read(tr -> outbox.read(tr, Outbox.START, 10).join()), ErrorCode.PERMISSION_DENIED);
        assertCode(() -> inventory.read(tr -> tr.getRange(INVENTORY.range().begin, ORDERS.range().end).asList().join()),
                ErrorCode.PERMISSION_DENIED);
        // Nor watch the feed.
        assertCode(() -> inventory.run(tr -> tr.watch(OUTBOX_LAST)).get(5, TimeUnit.SECONDS),
                ErrorCode.PERMISSION_DENIED);

        // A consumer cannot read, move, remove or trim another consumer's cursor.
        new ChangeFeed(orders, outbox).consumer("audit");
        ChangeFeed paymentsFeed = new ChangeFeed(payments, outbox);
        assertCode(() -> paymentsFeed.consumer("audit"), ErrorCode.PERMISSION_DENIED);
        byte[] far = new byte[12];
        Arrays.fill(far, (byte) 0xFF);
        assertCode(() -> payments.run(tr -> {
            tr.mutate(MutationType.BYTE_MAX, cursorKey("audit"), far);
            return null;
        }), ErrorCode.PERMISSION_DENIED);
        assertCode(() -> payments.run(tr -> {
            tr.set(cursorKey("audit"), far);
            return null;
        }), ErrorCode.PERMISSION_DENIED);
        assertCode(() -> paymentsFeed.removeConsumer("audit"), ErrorCode.PERMISSION_DENIED);
        assertCode(paymentsFeed::trim, ErrorCode.PERMISSION_DENIED);
        assertCode(paymentsFeed::cursors, ErrorCode.PERMISSION_DENIED);
        byte[] audit = orders.read(tr -> tr.get(cursorKey("audit")).join());
        assertThat(audit).isEqualTo(Outbox.START.getBytes());
        // Its own cursor it may move (BYTE_MAX never moves it backwards).
        payments.run(tr -> {
            tr.mutate(MutationType.BYTE_MAX, cursorKey("payments"), Outbox.START.getBytes());
            return null;
        });

        // Nobody writes the queue but its two sides.
        assertCode(() -> orders.run(tr -> {
            jobs.enqueue(tr, WAREHOUSE, b("order-99"));
            return null;
        }), ErrorCode.PERMISSION_DENIED);
        assertCode(() -> orders.run(tr -> {
            tr.set(QUEUE_PARTITIONS.pack(Tuple.from("forged")), new byte[0]);
            return null;
        }), ErrorCode.PERMISSION_DENIED);
        assertCode(() -> jobs.dequeue(orders), ErrorCode.PERMISSION_DENIED);
        // The producer only writes: it can neither take work nor write dead letters.
        assertCode(() -> jobs.dequeue(payments), ErrorCode.PERMISSION_DENIED);
        assertCode(() -> payments.read(tr -> jobs.size(tr, WAREHOUSE)), ErrorCode.PERMISSION_DENIED);
        assertCode(() -> payments.run(tr -> {
            tr.set(QUEUE_DEAD.pack(Tuple.from(WAREHOUSE, "x")), b("x"));
            return null;
        }), ErrorCode.PERMISSION_DENIED);
        // The worker's dead-letter grant is write only: listing them needs read on (2) as well.
        assertCode(() -> jobs.deadLetters(inventory, WAREHOUSE, 10), ErrorCode.PERMISSION_DENIED);
        // A versionstamped key whose stamp could reach outside the items range is refused too.
        assertCode(() -> payments.run(tr -> {
            byte[] key = JOBS.packWithVersionstamp(Tuple.from(dev.txkv.tuple.Versionstamp.incomplete(0)));
            tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, key, b("x"));
            return null;
        }), ErrorCode.PERMISSION_DENIED);
        // inventory cannot publish work for itself into orders' outbox or charge in payments.
        assertCode(() -> inventory.run(tr -> {
            tr.set(PAYMENT_CHARGES.pack(Tuple.from("order-99")), b("1"));
            return null;
        }), ErrorCode.PERMISSION_DENIED);
    }

    @Test
    @Order(3)
    void aDirectoryLayerNeedsItsNodesUnderTheServicePrefixOrAGrantOnThem() {
        // The default layer keeps its nodes under 0xFE and allocates contents anywhere: refused.
        assertCode(() -> DirectoryLayer.getDefault().createOrOpen(inventory, List.of("queues")).join(),
                ErrorCode.PERMISSION_DENIED);
        // Nodes under the service's prefix + 0xFE and contents under its prefix: all inside its grant.
        byte[] p = INVENTORY.pack();
        byte[] nodes = Arrays.copyOf(p, p.length + 1);
        nodes[p.length] = (byte) 0xFE;
        DirectoryLayer own = new DirectoryLayer(new Subspace(nodes), new Subspace(p));
        DirectorySubspace dir = own.createOrOpen(inventory, List.of("queues", "jobs")).join();
        assertThat(dir.getKey()).startsWith(p);
        Queue local = new Queue(dir, new QueueConfig());
        inventory.run(tr -> {
            local.enqueue(tr, "p", b("x"));
            return null;
        });
        assertThat(local.dequeue(inventory)).isPresent();

        // Or: an operator creates the directory in the default layer, and the service gets read
        // on the node subspace (to open it) and readwrite on the prefix allocated to it.
        DirectorySubspace shared = DirectoryLayer.getDefault().createOrOpen(open("root", ROOT_PASSWORD),
                List.of("inventory-jobs")).join();
        assertCode(() -> DirectoryLayer.getDefault().open(inventory, List.of("inventory-jobs")).join(),
                ErrorCode.PERMISSION_DENIED);
        grant("inventory", Permission.Mode.READ, prefix(DirectoryLayer.DEFAULT_NODE_SUBSPACE));
        grant("inventory", Permission.Mode.READWRITE, prefix(shared));
        DirectorySubspace opened = DirectoryLayer.getDefault().open(inventory, List.of("inventory-jobs")).join();
        assertThat(opened.getKey()).isEqualTo(shared.getKey());
        inventory.run(tr -> {
            tr.set(opened.pack(Tuple.from("k")), b("v"));
            return null;
        });
        // Creating one needs write on the node subspace, which would let it move or remove every
        // other service's directories: not granted.
        assertCode(() -> DirectoryLayer.getDefault().createOrOpen(inventory, List.of("inventory-more")).join(),
                ErrorCode.PERMISSION_DENIED);
    }

    // --- the services' operations ---------------------------------------------------------------

    /** orders: places order {@code i} under the relay lease; state, event and request record in one commit. */
    private static IdempotencyKeys.Result placeOrder(Lease relay, int i) {
        String id = "order-" + i;
        return orders.run(tr -> {
            tr.options().setAutomaticIdempotency();
            orderLeases.checkFence(tr, relay);
            return orderRequests.execute(tr, "place-" + i, t -> {
                t.set(ORDER_STATE.pack(Tuple.from(id)), b("placed"));
                outbox.publish(t, id, "order-placed", b(id));
                return b("accepted " + id);
            });
        });
    }

    /** payments: charges the order of {@code event} and enqueues its job, once per event. */
    private static void charge(Event event) {
        payments.run(tr -> {
            tr.options().setAutomaticIdempotency();
            return paymentsDone.execute(tr, "event-" + hex(event.position().getBytes()), t -> {
                t.set(PAYMENT_CHARGES.pack(Tuple.from(event.key())), b("charged"));
                jobs.enqueue(t, WAREHOUSE, b(event.key()));
                return null;
            });
        });
    }

    /** The outbox's retained events, as its owner reads them. */
    private static List<Event> events() {
        return orders.read(tr -> outbox.read(tr, Outbox.START, 100).join());
    }

    private static boolean allFinished(SagaRunner runner, List<String> ids) {
        for (String id : ids) {
            Optional<Saga> saga = runner.get(id);
            if (saga.isEmpty() || (saga.get().status() != SagaStatus.COMPLETED && saga.get().status() != SagaStatus.FAILED)) {
                return false;
            }
        }
        return true;
    }

    // --- grants -----------------------------------------------------------------------------------

    /** A grant's key range: {@code begin} and {@code end} (empty: every key beginning with {@code begin}). */
    private record KeyRange(byte[] begin, byte[] end) {
    }

    /** Every key of {@code s}, its own prefix included. */
    private static KeyRange prefix(Subspace s) {
        return new KeyRange(s.pack(), new byte[0]);
    }

    /** Exactly {@code key}: {@code [key, key + 00)}. */
    private static KeyRange key(byte[] key) {
        return new KeyRange(key, Arrays.copyOf(key, key.length + 1));
    }

    private static void role(String name) {
        change(ChangeAuthRequest.newBuilder().setRoleAdd(name));
    }

    private static void grant(String role, Permission.Mode mode, KeyRange range) {
        change(ChangeAuthRequest.newBuilder().setRoleGrant(RoleChange.newBuilder().setRole(role)
                .setPermission(Permission.newBuilder().setMode(mode).setBegin(ByteString.copyFrom(range.begin()))
                        .setEnd(ByteString.copyFrom(range.end())))));
    }

    private static void user(String name, String password) {
        change(ChangeAuthRequest.newBuilder().setUserAdd(UserAdd.newBuilder().setName(name).setPassword(password)
                .addRoles(name)));
    }

    private static void change(ChangeAuthRequest.Builder change) {
        clients.change(change);
    }

    private static Database open(String user, String password) {
        return clients.open(user, password);
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    private static byte[] le(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
