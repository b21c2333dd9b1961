// Reversibles: the actions that are undone — renice (nice, ionice, scheduling class, CPU
// affinity, oom_score_adj), throttle, freeze; a unit's freeze and throttle (a decision with
// whole_unit) go through systemd when there is a ServiceManager, and process by process when
// systemd refuses. Each is
// written to the ledger before it is applied and removed from it after it is undone, so it
// is undone on release, on clean exit, at the next start after a crash, or by `freezr thaw`.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "act/actuator.h"
#include "act/cgroups.h"
#include "act/ledger_entries.h"
#include "act/process_control.h"
#include "core/clock.h"
#include "proc/proc_source.h"
#include "store/ledger.h"

namespace freezr::act {

class Reversibles {
 public:
  // All references must outlive this object.
  // source verifies identities; control does the kernel calls; clock stamps the ledger.
  Reversibles(boost::asio::io_context& io, proc::ProcSource& source, ProcessControl& control,
              const Clock& clock, Cgroups& cgroups, store::Ledger& ledger, OutcomeSink sink);
  ~Reversibles();

  void renice(const engine::Decision& d);
  void throttle(const engine::Decision& d);
  void freeze(const engine::Decision& d);
  // The rule no longer applies to the entity: undo its renices and throttles.
  void release(const engine::Decision& d);
  // Thaws the frozen process pid (or the unit frozen as a whole that pid lives in), or every
  // freeze. Returns the PIDs thawed (0 for a unit under --all).
  std::vector<Pid> thaw(std::optional<Pid> pid);
  // The freezes in force.
  [[nodiscard]] std::vector<store::LedgerEntry> frozen() const;
  // Re-checks every hold against the machine (call once per scan): a process that exited,
  // was resumed, moved out of FreezR's group or reniced by someone else, or an entry that
  // `freezr thaw` undid, ends FreezR's hold; each is reported as an undo outcome saying so.
  void reconcile();
  // Undoes everything in force (clean exit), and from then on answers still in flight start no
  // new hold. Returns how many entries were undone.
  int undo_all();
  // Undoes what the rules named in rules hold (they were changed, turned off or removed by a
  // reload or a profile: no decision of theirs would release it); why is said in each undo.
  // Returns how many entries were undone.
  int undo_rules(const std::set<std::string>& rules, const char* why);
  // Undoes what the ledger holds from an earlier run, then releases the processes of any of
  // FreezR's groups no entry accounts for (left by a damaged ledger). Returns lines describing
  // each.
  std::vector<std::string> recover();
  // What recover() would undo, one line each; touches nothing.
  std::vector<std::string> leftovers();

  // "signal" freezing even where cgroup.freeze works.
  void prefer_signals(bool yes) { prefer_signals_ = yes; }
  // systemd's manager, for holding units as a whole (nullptr: process by process). It must
  // outlive this object.
  void use_services(ServiceManager* services) { services_ = services; }

 private:
  struct Held {
    store::LedgerEntry entry;
    ProcessId entity;
    std::shared_ptr<boost::asio::steady_timer> timer;  // freezes only
  };
  bool verified(const engine::TargetInfo& t, char* state);
  // A pidfd held while FreezR acts on a process by number (priorities, cgroup.procs): until
  // it is closed the PID cannot pass to another process, so the number reaches the process
  // whose identity was checked, or nothing.
  class Pin {
   public:
    explicit Pin(int fd) : fd_(fd) {}
    ~Pin();
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;

   private:
    int fd_;
  };
  // Pins t (its pidfd held in pin until pin goes) and reads its /proc cgroup file into
  // cgroup; false, with the outcome reported, when it is gone or cannot be pinned.
  bool pin_with_cgroup(const engine::Decision& d, const engine::TargetInfo& t,
                       std::optional<Pin>& pin, std::string& cgroup);
  // Writes the ledger entry of an action about to be applied, and holds it.
  Result<std::shared_ptr<Held>> record(const engine::Decision& d, const engine::TargetInfo& t,
                                       const std::string& kind, const std::string& data);
  void undo(const std::shared_ptr<Held>& h, const char* why);
  // FreezR's freeze and throttle groups with no entry left, their processes moved to the root
  // (where they came from is unknown) and thawed.
  std::vector<std::string> release_orphan_groups();
  // How a hold the machine ended is wound up: undone (a thaw from outside still leaves the
  // process in FreezR's group), dropped with its group removed, or only forgotten (`freezr
  // thaw` already undid it).
  enum class Ending { kHolds, kUndo, kDrop, kForget };
  struct Ended {
    Ending how = Ending::kHolds;
    std::string why;
  };
  Ended ended_outside(const Held& h);
  // Ends the hold without undoing it (the machine already did), and says why.
  void drop(const std::shared_ptr<Held>& h, const std::string& why, bool remove_group);
  // The undo outcome of h's entry.
  ActionOutcome undo_outcome(const Held& h, bool ok, std::string detail) const;
  // The thread priorities and the oom_score_adj of a renice; the number of threads changed.
  // A failed oom_score_adj puts the threads back: the renice is all or nothing.
  Result<std::size_t> apply_priorities(Pid pid, const PriorityChange& change,
                                       const std::optional<OomChange>& oom);
  void report(const engine::Decision& d, const engine::TargetInfo& t, bool ok,
              const std::string& detail);
  void freeze_with_signals(const engine::Decision& d);
  void freeze_with_cgroup(const engine::Decision& d);
  void thaw_later(const engine::Decision& d, std::vector<std::shared_ptr<Held>> group);
  // A unit held as a whole through systemd (unit_holds.cpp).
  void freeze_unit(const engine::Decision& d);
  void throttle_unit(const engine::Decision& d);
  // systemd did not take d on (why): d again, process by process.
  void by_process(const engine::Decision& d, const std::string& why);
  void report_all(const engine::Decision& d, bool ok, const std::string& detail);
  [[nodiscard]] bool holding(const std::shared_ptr<Held>& h) const;
  // Ends h's hold before it was applied (the call it was recorded for failed).
  void forget(const std::shared_ptr<Held>& h);

  boost::asio::io_context& io_;
  proc::ProcSource& source_;
  ProcessControl& control_;
  const Clock& clock_;
  Cgroups& cgroups_;
  store::Ledger& ledger_;
  OutcomeSink sink_;
  std::list<std::shared_ptr<Held>> held_;
  bool prefer_signals_ = false;
  ServiceManager* services_ = nullptr;
  // D-Bus answers may come after this object is gone: they hold this weakly and check it.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  bool stopping_ = false;  // undo_all() ran: answers still in flight start no new hold
};

}  // namespace freezr::act
