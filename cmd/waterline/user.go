package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/waterline-gis/waterline/web/auth"
)

// userSubcommands are the `waterline user` subcommands.
func userSubcommands() map[string]command {
	return map[string]command{
		"add":          {"add a user: add NAME -role R [-districts D1,D2] [-display NAME] [-password-stdin | -no-password]", userAdd},
		"list":         {"list users", userList},
		"passwd":       {"set a user's password (random and printed unless -password-stdin); ends their sessions", userPasswd},
		"set":          {"change a user's role, districts or display name: set NAME [-role R] [-districts D1,D2] [-display NAME]", userSet},
		"disable":      {"disable a user: sessions end, tokens stop working", userDisable},
		"enable":       {"enable a disabled user", userEnable},
		"token":        {"API tokens: token add NAME [-label L] [-expires-days N] | token list [NAME] | token revoke ID", userToken},
		"ensure-admin": {"make sure an administrator can sign in: creates it with a random password (printed), -reset sets a new one", userEnsureAdmin},
	}
}

// cmdUser runs `waterline user <subcommand>`.
func cmdUser(ctx context.Context, e *env, args []string) error {
	subs := userSubcommands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := e.stderr
		if len(args) > 0 {
			w = e.stdout
		}
		fmt.Fprintln(w, "usage: waterline user <command> [flags]\n\ncommands:")
		names := make([]string, 0, len(subs))
		for n := range subs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, "  %-13s %s\n", n, subs[n].summary)
		}
		if len(args) == 0 {
			return usageError{"give a command"}
		}
		return nil
	}
	c, ok := subs[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("unknown command %q (waterline user help)", args[0])}
	}
	return c.run(ctx, e, args[1:])
}

// userEnv opens the database and the user store for a user subcommand.
func userEnv(ctx context.Context, e *env, ec *envConfig) (*auth.Service, func(), error) {
	cfg, err := ec.resolve()
	if err != nil {
		return nil, nil, err
	}
	pool, _, err := open(ctx, cfg, logger(e))
	if err != nil {
		return nil, nil, err
	}
	return auth.New(pool, auth.Options{}), pool.Close, nil
}

// cliActor names who runs a command, for the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

func audit(ctx context.Context, svc *auth.Service, action string, target map[string]any) {
	svc.Record(ctx, auth.Entry{Actor: cliActor(), Via: auth.ViaCLI, Action: action, Target: target, Remote: "local"}) //nolint:errcheck // best effort
}

// readPassword reads a password: from standard input (one line) with
// fromStdin, else typed twice at a terminal; "" when neither applies.
func readPassword(e *env, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", usageError{"no password on standard input"}
		}
		return pw, nil
	}
	return "", nil
}

// promptPassword asks twice at the terminal, without echo.
func promptPassword(e *env) (string, error) {
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", nil
	}
	ask := func(what string) (string, error) {
		fmt.Fprint(e.stderr, what)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	a, err := ask("password (empty: generate one): ")
	if err != nil || a == "" {
		return "", err
	}
	b, err := ask("again: ")
	if err != nil {
		return "", err
	}
	if a != b {
		return "", errors.New("the passwords differ")
	}
	return a, nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func userAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user add", "NAME -role ROLE [flags]")
	ec := bindConfig(fs, e.getenv, false)
	role := fs.String("role", "", "admin | gis | dispatcher | district_manager | crew | viewer")
	districts := fs.String("districts", "", "comma-separated districts (district_manager)")
	display := fs.String("display", "", "display name, e.g. 张三")
	stdin := fs.Bool("password-stdin", false, "read the password from standard input (else: asked at a terminal, or generated and printed)")
	noPassword := fs.Bool("no-password", false, "an account that cannot sign in with a password (a machine using API tokens)")
	name, err := parseWithName(fs, args)
	if err != nil {
		return err
	}
	svc, done, err := userEnv(ctx, e, ec)
	if err != nil {
		return err
	}
	defer done()
	pw := ""
	if !*noPassword {
		if pw, err = readPassword(e, *stdin); err != nil {
			return err
		}
		if pw == "" && !*stdin {
			if pw, err = promptPassword(e); err != nil {
				return err
			}
		}
	}
	generated := false
	if pw == "" && !*noPassword {
		pw, generated = auth.GeneratePassword(), true
	}
	u, err := svc.AddUser(ctx, auth.NewUser{Name: name, DisplayName: *display, Role: auth.Role(*role), Districts: splitList(*districts), Password: pw})
	if err != nil {
		return err
	}
	audit(ctx, svc, "user.add", map[string]any{"user": u.Name, "role": u.Role, "districts": u.Districts})
	fmt.Fprintf(e.stdout, "added %s (%s)\n", u.Name, describeRole(u))
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n", pw)
	}
	return nil
}

func describeRole(u *auth.User) string {
	if len(u.Districts) > 0 {
		return fmt.Sprintf("%s of %s", u.Role, strings.Join(u.Districts, ", "))
	}
	return string(u.Role)
}

// parseWithName parses flags around one positional NAME.
func parseWithName(fs *flag.FlagSet, args []string) (string, error) {
	// Allow flags after the name: waterline user add zhang -role crew.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", usageError{err.Error()}
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Args()[0]
	} else if fs.NArg() > 0 {
		return "", usageError{fmt.Sprintf("unexpected %q", fs.Args()[0])}
	}
	if name == "" {
		return "", usageError{"give a user name"}
	}
	return name, nil
}

func userList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user list", "[flags]")
	ec := bindConfig(fs, e.getenv, false)
	if err := parse(fs, args); err != nil {
		return err
	}
	svc, done, err := userEnv(ctx, e, ec)
	if err != nil {
		return err
	}
	defer done()
	us, err := svc.Users(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDISPLAY\tROLE\tDISTRICTS\tSTATE\tLAST SIGN-IN")
	for _, u := range us {
		state := "enabled"
		switch {
		case u.Disabled:
			state = "disabled"
		case !u.HasPassword:
			state = "tokens only"
		}
		last := "-"
		if u.LastLoginAt != nil {
			last = u.LastLoginAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.DisplayName, u.Role, strings.Join(u.Districts, ","), state, last)
	}
	return tw.Flush()
}

func userPasswd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user passwd", "NAME [-password-stdin]")
	ec := bindConfig(fs, e.getenv, false)
	stdin := fs.Bool("password-stdin", false, "read the password from standard input (else: asked at a terminal, or generated and printed)")
	name, err := parseWithName(fs, args)
	if err != nil {
		return err
	}
	svc, done, err := userEnv(ctx, e, ec)
	if err != nil {
		return err
	}
	defer done()
	pw, err := readPassword(e, *stdin)
	if err != nil {
		return err
	}
	if pw == "" {
		if pw, err = promptPassword(e); err != nil {
			return err
		}
	}
	generated := false
	if pw == "" {
		pw, generated = auth.GeneratePassword(), true
	}
	if err := svc.SetPassword(ctx, name, pw); err != nil {
		return err
	}
	audit(ctx, svc, "user.passwd", map[string]any{"user": name})
	fmt.Fprintf(e.stdout, "password of %s set; their sessions ended\n", name)
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n", pw)
	}
	return nil
}

func userSet(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user set", "NAME [-role R] [-districts D1,D2] [-display NAME]")
	ec := bindConfig(fs, e.getenv, false)
	role := fs.String("role", "", "new role")
	districts := fs.String("districts", "", "new districts, comma-separated (district_manager)")
	display := fs.String("display", "", "new display name")
	name, err := parseWithName(fs, args)
	if err != nil {
		return err
	}
	var up auth.UserUpdate
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["role"] {
		r := auth.Role(*role)
		up.Role = &r
	}
	if set["districts"] {
		ds := splitList(*districts)
		up.Districts = &ds
	}
	if set["display"] {
		up.DisplayName = display
	}
	if !set["role"] && !set["districts"] && !set["display"] {
		return usageError{"give -role, -districts or -display"}
	}
	svc, done, err := userEnv(ctx, e, ec)
	if err != nil {
		return err
	}
	defer done()
	u, err := svc.UpdateUser(ctx, name, up)
	if err != nil {
		return err
	}
	audit(ctx, svc, "user.set", map[string]any{"user": u.Name, "role": u.Role, "districts": u.Districts})
	fmt.Fprintf(e.stdout, "%s is now %s\n", u.Name, describeRole(u))
	return nil
}

func userDisable(ctx context.Context, e *env, args []string) error {
	return userEnableDisable(ctx, e, args, true)
}
func userEnable(ctx context.Context, e *env, args []string) error {
	return userEnableDisable(ctx, e, args, false)
}

func userEnableDisable(ctx context.Context, e *env, args []string, disable bool) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disable]
	fs := newFlags(e, "user "+verb, "NAME")
	ec := bindConfig(fs, e.getenv, false)
	name, err := parseWithName(fs, args)
	if err != nil {
		return err
	}
	svc, done, err := userEnv(ctx, e, ec)
	if err != nil {
		return err
	}
	defer done()
	if _, err := svc.UpdateUser(ctx, name, auth.UserUpdate{Disabled: &disable}); err != nil {
		return err
	}
	audit(ctx, svc, "user."+verb, map[string]any{"user": name})
	if disable {
		fmt.Fprintf(e.stdout, "%s disabled: sessions ended, tokens refused (other replicas within seconds)\n", name)
	} else {
		fmt.Fprintf(e.stdout, "%s enabled\n", name)
	}
	return nil
}

func userToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"token add NAME | token list [NAME] | token revoke ID"}
	}
	switch args[0] {
	case "add":
		fs := newFlags(e, "user token add", "NAME [-label L] [-expires-days N]")
		ec := bindConfig(fs, e.getenv, false)
		label := fs.String("label", "", "what the token is for, e.g. \"SCADA bridge\"")
		days := fs.Int("expires-days", 0, "days until it expires (0: never)")
		name, err := parseWithName(fs, args[1:])
		if err != nil {
			return err
		}
		if *days < 0 || *days > 3660 {
			return usageError{"-expires-days must be within [0, 3660]"}
		}
		svc, done, err := userEnv(ctx, e, ec)
		if err != nil {
			return err
		}
		defer done()
		var exp *time.Time
		if *days > 0 {
			t := time.Now().Add(time.Duration(*days) * 24 * time.Hour)
			exp = &t
		}
		secret, t, err := svc.CreateToken(ctx, name, *label, exp, cliActor())
		if err != nil {
			return err
		}
		audit(ctx, svc, "token.add", map[string]any{"user": name, "token": t.ID, "label": t.Label})
		fmt.Fprintf(e.stdout, "token %d for %s (shown once; send it as \"Authorization: Bearer <token>\"):\n%s\n", t.ID, name, secret)
		return nil
	case "list":
		fs := newFlags(e, "user token list", "[NAME]")
		ec := bindConfig(fs, e.getenv, false)
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		svc, done, err := userEnv(ctx, e, ec)
		if err != nil {
			return err
		}
		defer done()
		ts, err := svc.Tokens(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tPREFIX\tLABEL\tCREATED\tEXPIRES\tLAST USED\tSTATE")
		for _, t := range ts {
			f := func(t *time.Time) string {
				if t == nil {
					return "-"
				}
				return t.Local().Format("2006-01-02 15:04")
			}
			state := "active"
			if t.RevokedAt != nil {
				state = "revoked"
			} else if t.ExpiresAt != nil && t.ExpiresAt.Before(time.Now()) {
				state = "expired"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s…\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Prefix, t.Label, f(&t.CreatedAt), f(t.ExpiresAt), f(t.LastUsedAt), state)
		}
		return tw.Flush()
	case "revoke":
		fs := newFlags(e, "user token revoke", "ID")
		ec := bindConfig(fs, e.getenv, false)
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil || fs.NArg() != 1 {
			return usageError{"give the token's id (waterline user token list)"}
		}
		svc, done, err := userEnv(ctx, e, ec)
		if err != nil {
			return err
		}
		defer done()
		t, err := svc.RevokeToken(ctx, id)
		if err != nil {
			return err
		}
		audit(ctx, svc, "token.revoke", map[string]any{"user": t.User, "token": t.ID})
		fmt.Fprintf(e.stdout, "token %d of %s revoked\n", t.ID, t.User)
		return nil
	}
	return usageError{fmt.Sprintf("unknown token command %q: add, list or revoke", args[0])}
}

func userEnsureAdmin(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user ensure-admin", "[-name admin] [-reset]")
	ec := bindConfig(fs, e.getenv, false)
	name := fs.String("name", "admin", "the administrator's user name")
	reset := fs.Bool("reset", false, "give an existing administrator a new random password (printed)")
	if err := parse(fs, args); err != nil {
		return err
	}
	svc, done, err := userEnv(ctx, e, ec)
	if err != nil {
		return err
	}
	defer done()
	pw, created, err := svc.EnsureAdmin(ctx, *name, *reset)
	if err != nil {
		return err
	}
	switch {
	case created:
		audit(ctx, svc, "user.add", map[string]any{"user": *name, "role": "admin"})
		fmt.Fprintf(e.stdout, "created the administrator %q; password: %s\n", *name, pw)
	case pw != "":
		audit(ctx, svc, "user.passwd", map[string]any{"user": *name, "reset": true})
		fmt.Fprintf(e.stdout, "administrator %q; new password: %s\n", *name, pw)
	default:
		fmt.Fprintf(e.stdout, "administrator %q exists (its password is unchanged; -reset sets a new one)\n", *name)
	}
	return nil
}
