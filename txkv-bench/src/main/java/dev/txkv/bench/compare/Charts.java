package dev.txkv.bench.compare;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.HdrHistogram.HistogramIterationValue;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The comparison's charts as PNG files, drawn with JFreeChart (headless). */
final class Charts {
    private static final int WIDTH = 800;
    private static final int HEIGHT = 480;

    private Charts() {
    }

    /** White plot area with grey grid lines: readable on screen and in print. */
    private static JFreeChart plain(JFreeChart chart) {
        chart.getPlot().setBackgroundPaint(java.awt.Color.WHITE);
        if (chart.getPlot() instanceof XYPlot xy) {
            xy.setDomainGridlinePaint(java.awt.Color.LIGHT_GRAY);
            xy.setRangeGridlinePaint(java.awt.Color.LIGHT_GRAY);
        } else if (chart.getPlot() instanceof org.jfree.chart.plot.CategoryPlot category) {
            category.setRangeGridlinePaint(java.awt.Color.LIGHT_GRAY);
        }
        return chart;
    }

    /** Bank commits per second against clients, one line per system. */
    static void bankThroughput(Path file, int accounts, List<BankWorkload.Result> results, List<String> systems)
            throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (String system : systems) {
            XYSeries series = new XYSeries(system);
            for (BankWorkload.Result r : results) {
                if (r.system().equals(system) && r.accounts() == accounts) {
                    series.add(r.clients(), r.commitsPerSecond());
                }
            }
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart("Bank transfers, " + accounts + " accounts",
                "concurrent clients", "commits/s", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setRenderer(new XYLineAndShapeRenderer(true, true));
        LogarithmicAxis clients = new LogarithmicAxis("concurrent clients (log)");
        clients.setAllowNegativesFlag(false);
        plot.setDomainAxis(clients);
        ChartUtils.saveChartAsPNG(file.toFile(), plain(chart), WIDTH, HEIGHT);
    }

    /** Bank transfer latency CDF at {@code clients}: fraction of transfers at or under x ms. */
    static void bankLatencyCdf(Path file, int accounts, int clients, List<BankWorkload.Result> results) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (BankWorkload.Result r : results) {
            if (r.accounts() != accounts || r.clients() != clients || r.latencyMicros().getTotalCount() == 0) {
                continue;
            }
            XYSeries series = new XYSeries(r.system());
            for (HistogramIterationValue v : r.latencyMicros().percentiles(5)) {
                series.add(Math.max(0.001, v.getValueIteratedTo() / 1000.0), v.getPercentileLevelIteratedTo() / 100.0);
            }
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(
                "Bank transfer latency CDF, " + accounts + " accounts, " + clients + " clients",
                "latency (ms)", "fraction of transfers", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        LogarithmicAxis latency = new LogarithmicAxis("latency, ms (log)");
        latency.setAllowNegativesFlag(false);
        plot.setDomainAxis(latency);
        ChartUtils.saveChartAsPNG(file.toFile(), plain(chart), WIDTH, HEIGHT);
    }

    /** YCSB throughput per workload, bars per system. */
    static void ycsbThroughput(Path file, List<YcsbRun.Result> results) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (YcsbRun.Result r : results) {
            String workload = r.workload().startsWith("workload") ? r.workload().substring(8).toUpperCase(java.util.Locale.ROOT)
                    : r.workload();
            data.addValue(r.opsPerSecond(), r.system(), workload + " (" + r.threads() + ")");
        }
        JFreeChart chart = ChartFactory.createBarChart("YCSB throughput (threads)", "workload", "operations/s",
                data, PlotOrientation.VERTICAL, true, false, false);
        ChartUtils.saveChartAsPNG(file.toFile(), plain(chart), WIDTH + 200, HEIGHT);
    }
}
