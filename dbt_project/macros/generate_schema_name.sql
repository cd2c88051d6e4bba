{#- Use a model's custom schema verbatim (staging, intermediate, marts), not <target>_<schema>,
    so the warehouse's schemas have the names the data contracts use. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
