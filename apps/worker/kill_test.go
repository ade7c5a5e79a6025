package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/bunstore/buntest"
	"github.com/gellhub/gellhub/apps/internal/config"
	"github.com/gellhub/gellhub/apps/internal/platform"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/ports"
)

// runWorkerEnv makes the test binary run the worker's main instead of the
// tests (TestMain), so that a test can start a real worker process and kill
// it.
const runWorkerEnv = "GELLHUB_TEST_RUN_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(runWorkerEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestWorkerKilledMidDeliveryDeliversAfterRestart kills (SIGKILL) a worker
// process while the receiver holds its handoff delivery open, starts
// another, and checks that the event arrives, with the same event id, and
// is recorded as delivered.
func TestWorkerKilledMidDeliveryDeliversAfterRestart(t *testing.T) {
	t.Parallel()
	dsn := buntest.PostgresDSN(t)

	type arrival struct{ eventID, event string }
	var (
		mu       sync.Mutex
		arrivals []arrival
	)
	firstArrived := make(chan struct{})
	release := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		arrivals = append(arrivals, arrival{r.Header.Get("X-GellHub-Event-Id"), r.Header.Get("X-GellHub-Event")})
		first := len(arrivals) == 1
		mu.Unlock()
		if first {
			close(firstArrived)
			select { // hold the first delivery open until its worker dies
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(recv.Close)
	t.Cleanup(func() { close(release) })

	env := map[string]string{
		"GELLHUB_DATABASE_URL":          dsn,
		"GELLHUB_DATA_DIR":              t.TempDir(),
		"GELLHUB_WEBHOOK_ALLOW_PRIVATE": "true",
		"GELLHUB_JOB_RESCUE_AFTER":      config.MinJobRescueAfter.String(),
		"GELLHUB_LOG_LEVEL":             "warn",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	p, err := platform.Open(ctx, cfg, platform.NewLogger(io.Discard, "error"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })

	// A merchant whose partner inbox is the receiver, and a handoff event
	// committed with the turn that caused it (as a chat turn does).
	reg, err := p.Accounts.Register(ctx, accounts.RegisterInput{
		Email: "kill-test@example.com", Password: "a long password", DisplayName: "Kill test", AccountType: "studio",
	})
	require.NoError(t, err)
	pid := reg.Account.Profile.ID
	now := time.Now().UTC().Truncate(time.Millisecond)
	require.NoError(t, p.Store.UpdateMessaging(ctx, pid, func(tx ports.MessagingTx) error {
		return tx.SaveHandoffConfig(ctx, core.HandoffConfig{ProfileID: pid, WebhookURL: recv.URL, UpdatedAt: now})
	}))
	body, err := json.Marshal(map[string]any{"version": 1, "event": core.EventHandoffRequested, "profileId": pid})
	require.NoError(t, err)
	const eventID = "evt_killtest0000000000000001"
	_, err = p.Store.RecordTurn(ctx, ports.ChatTurn{
		ProfileID: pid, ConversationID: "conv_killtest", Ref: "api:kill", Channel: "api", AgentID: "agent_x",
		Messages:   []core.ConversationMessage{{ID: "cmsg_killtest1", Role: core.RoleUser, Content: "a person please", CreatedAt: now}},
		Handoff:    true,
		Deliveries: []core.WebhookDelivery{{ID: eventID, Event: core.EventHandoffRequested, Body: body}},
		At:         now,
	})
	require.NoError(t, err)

	first := startWorker(t, env)
	select {
	case <-firstArrived:
	case <-time.After(90 * time.Second):
		t.Fatal("the first worker never delivered")
	}
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()
	d, err := p.Store.Delivery(ctx, eventID)
	require.NoError(t, err)
	require.Equal(t, core.DeliveryPending, d.State, "the killed attempt delivered nothing")

	second := startWorker(t, env)
	t.Cleanup(func() { _ = second.Process.Signal(syscall.SIGTERM); _ = second.Wait() })
	// River rescues the job after GELLHUB_JOB_RESCUE_AFTER, checked every
	// 30 s by the elected leader (riverjobs.Config.RescueStuckJobsAfter).
	require.Eventually(t, func() bool {
		d, err := p.Store.Delivery(ctx, eventID)
		return err == nil && d.State == core.DeliveryDelivered
	}, 3*time.Minute, 250*time.Millisecond, "the restarted worker delivers the event")

	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(arrivals), 2)
	for _, a := range arrivals {
		require.Equal(t, arrival{eventID, core.EventHandoffRequested}, a, "every attempt carries the same event id")
	}
}

// startWorker runs the worker's main in a child process with env.
func startWorker(t *testing.T, env map[string]string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), runWorkerEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	require.NoError(t, cmd.Start())
	return cmd
}
