// The console's one script: the progress of a background export. Pages work without it.
"use strict";
(function () {
  const job = document.getElementById("job");
  if (!job) return;
  const bar = document.getElementById("job-progress");
  const step = document.getElementById("job-step");
  const link = document.getElementById("job-download");
  async function poll() {
    try {
      const answer = await fetch(job.dataset.status, { headers: { Accept: "application/json" } });
      if (!answer.ok) { step.textContent = "无法读取进度（" + answer.status + "）"; return; }
      const state = await answer.json();
      bar.value = state.percent;
      if (state.state === "done") {
        step.textContent = "已完成";
        link.href = state.download;
        link.hidden = false;
        return;
      }
      if (state.state === "failed") { step.textContent = state.error; return; }
      step.textContent = "正在导出：" + state.step + "（" + state.percent + "%）";
    } catch (e) {
      step.textContent = "网络错误，正在重试…";
    }
    setTimeout(poll, 700);
  }
  poll();
})();
