package batch

import (
	"os"
	"strconv"
	"strings"
)

// HolderDead says whether a lease holder named the way lote names its
// runners, "HOST pid N" (RunOptions.Holder's default) or "lote serve on
// HOST pid N", is a process of this host that no longer exists. Pass it as
// ledger.Options.HolderDead, so that a run killed on this host does not keep
// its batch until the lease expires. A holder on another host, a live
// process, a name it cannot read or a system where it cannot ask is not
// dead: its lease is waited for.
func HolderDead(holder string) bool {
	f := strings.Fields(holder)
	if len(f) < 3 || f[len(f)-2] != "pid" {
		return false
	}
	pid, err := strconv.ParseInt(f[len(f)-1], 10, 32)
	if err != nil || pid <= 0 {
		// 0 and negative numbers name process groups, not a process.
		return false
	}
	host, err := os.Hostname()
	if err != nil || host == "" || f[len(f)-3] != host {
		return false
	}
	return processGone(int(pid))
}
