# Contender: Debian's Scrapy 2.8 spider, 16 in flight (16 per domain), index fields carried to
# the post request with cb_kwargs. Run by bench.ts as:
#   /usr/bin/python3 -m scrapy runspider scrape/scrapy_spider.py -a start=URL -O OUT.jsonl
import scrapy


def squash(s):
    return " ".join(s.split())


class BlogSpider(scrapy.Spider):
    name = "blog"
    custom_settings = {
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "LOG_LEVEL": "WARNING",
        "ROBOTSTXT_OBEY": False,
        "TELNETCONSOLE_ENABLED": False,
    }

    def __init__(self, start=None, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start]

    def parse(self, response):
        for post in response.css("article.post-preview"):
            summary = "\n\n".join(squash(p.xpath("string()").get()) for p in post.css(".post-entry p"))
            yield response.follow(
                post.css("a::attr(href)").get(),
                self.parse_post,
                cb_kwargs={
                    "title": squash(post.css("h2.post-title").xpath("string()").get()),
                    "date_text": squash(post.css("span.post-meta").xpath("string()").get()),
                    "summary": summary,
                },
            )
        nxt = response.css("li.next a::attr(href)").get()
        if nxt:
            yield response.follow(nxt, self.parse, priority=10)

    def parse_post(self, response, title, date_text, summary):
        text = "\n\n".join(squash(p.xpath("string()").get()) for p in response.css("article.blog-post p"))
        yield {"url": response.url, "title": title, "date_text": date_text, "summary": summary, "text": text}
